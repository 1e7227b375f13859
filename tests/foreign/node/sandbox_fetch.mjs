// `node-fetch` as the client imports it, sending every request to SANDBOX_URL instead.
import realFetch, { Headers, Request, Response } from 'node-fetch';

const sandbox = new URL(process.env.SANDBOX_URL);

export default function fetch(url, options) {
  const target = new URL(url.toString());
  target.protocol = sandbox.protocol;
  target.host = sandbox.host;
  return realFetch(target.toString(), options);
}

export { Headers, Request, Response };
