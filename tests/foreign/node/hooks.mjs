// Module hook: the client's `node-fetch` import gets sandbox_fetch.mjs instead.
// The client builds https://<host> URLs and names api.discogs.com for OAuth; the sandbox
// serves plain HTTP on loopback, so only the scheme and host of each URL change.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'node-fetch' && !context.parentURL?.endsWith('/sandbox_fetch.mjs')) {
    return { url: new URL('./sandbox_fetch.mjs', import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
