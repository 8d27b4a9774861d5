import { exitOnStartupFailure, startFhirgate } from './start.js';

startFhirgate().catch(exitOnStartupFailure);
