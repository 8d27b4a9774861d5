/**
 * S3's naive variant: the gateway of `src/main.ts` with DataLoader batching and caching off, so
 * every load is its own statement. It is what batching is measured against, not a deployment.
 */
import { exitOnStartupFailure, startFhirgate } from '../src/start.js';

startFhirgate({ batchLoads: false }).catch(exitOnStartupFailure);
