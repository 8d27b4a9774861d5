/** The options object a GraphiQL page hands to `renderYogaGraphiQL`, parsed back from its HTML. */
export function graphiqlOptionsIn(html: string): Record<string, unknown> {
  const match = /renderYogaGraphiQL\(root, (.*)\)\);\n/.exec(html);
  if (match?.[1] === undefined) {
    throw new Error('no renderYogaGraphiQL call in the page');
  }
  return JSON.parse(match[1]) as Record<string, unknown>;
}
