// @lionralfs/discogs-client against the sandbox: one natural call per operation it has,
// its OAuth flow and its behaviour on a 429. Prints one line per step; exits 1 on failure.
// Usage: SANDBOX_URL=http://127.0.0.1:PORT node --import ./register.mjs lionralfs.mjs <part>
import assert from 'node:assert/strict';
import { DiscogsClient, DiscogsOAuth } from '@lionralfs/discogs-client';

const base = new URL(process.env.SANDBOX_URL);
const userAgent = 'foreign-client-tests/1.0 +https://example.invalid';
const token = 'sandbox-token';

function client(auth) {
  return new DiscogsClient({ userAgent, auth }).setConfig({
    host: base.hostname,
    port: Number(base.port),
  });
}

const steps = [];
async function step(name, body) {
  await body();
  steps.push(name);
  console.log(`ok ${name}`);
}

async function calls() {
  const discogs = client({ userToken: token });
  const db = discogs.database();
  const me = discogs.user();
  const market = discogs.marketplace();
  const inventory = discogs.inventory();
  await step('about', async () => {
    assert.equal((await discogs.about()).data.api_version, 'v2');
  });
  await step('identity', async () => {
    assert.equal((await me.getIdentity()).data.username, 'sandbox');
  });
  let release;
  await step('release', async () => {
    const response = await db.getRelease(1, 'EUR');
    release = response.data;
    assert.equal(release.id, 1);
    assert.ok(response.rateLimit.limit > 0);
  });
  await step('release ratings and stats', async () => {
    await db.setReleaseRating(1, 'sandbox', 4);
    assert.equal((await db.getReleaseRating(1, 'sandbox')).data.rating, 4);
    await db.setReleaseRating(1, 'sandbox', null);
    assert.equal((await db.getReleaseCommunityRating(1)).data.release_id, 1);
    assert.ok('num_have' in (await db.getReleaseStats(1)).data);
  });
  await step('master and versions', async () => {
    assert.ok((await db.getMaster(3)).data.title);
    const versions = (await db.getMasterVersions(3, { sort: 'released' })).data;
    assert.ok(versions.versions.length > 0);
  });
  await step('artist and releases', async () => {
    assert.ok((await db.getArtist(4)).data.name);
    assert.ok((await db.getArtistReleases(4, { sort: 'year' })).data.releases.length > 0);
  });
  await step('label and releases', async () => {
    assert.ok((await db.getLabel(5)).data.name);
    assert.ok((await db.getLabelReleases(5, { per_page: 5 })).data.releases.length > 0);
  });
  await step('search', async () => {
    const found = (await db.search({ release_title: release.title, type: 'release' })).data;
    assert.ok(found.results.some(r => r.id === 1));
    assert.equal((await db.search({ query: 'zzzzzzzznothing' })).data.results.length, 0);
  });
  await step('profile', async () => {
    assert.equal((await me.getProfile('sandbox')).data.username, 'sandbox');
    await me.editProfile('sandbox', { location: 'Reykjavík' });
    assert.ok((await me.getSubmissions('sandbox')).data.submissions);
    assert.ok((await me.getContributions('sandbox', { sort: 'title' })).data.contributions);
  });
  await step('collection', async () => {
    const collection = me.collection();
    assert.equal((await collection.getFolders('sandbox')).data.folders[0].id, 0);
    const folder = (await collection.addFolder('sandbox', 'Keepers')).data;
    assert.equal((await collection.getFolder('sandbox', folder.id)).data.name, 'Keepers');
    await collection.setFolderName('sandbox', folder.id, 'Best');
    assert.ok((await collection.getReleases('sandbox', 0, { sort: 'artist' })).data.releases.length);
    const added = (await collection.addRelease('sandbox', 8, 1)).data;
    const instances = (await collection.getReleaseInstances('sandbox', 8)).data.releases;
    assert.ok(instances.some(i => i.instance_id === added.instance_id));
    await collection.editRelease('sandbox', 1, 8, added.instance_id, { rating: 5 });
    await collection.editInstanceNote('sandbox', 1, 8, added.instance_id, 3, 'signed');
    await collection.removeRelease('sandbox', 1, 8, added.instance_id);
    await collection.deleteFolder('sandbox', folder.id);
    assert.ok((await collection.getFields('sandbox')).data.fields.length);
    assert.ok((await collection.getValue('sandbox')).data.median);
  });
  await step('wantlist and lists', async () => {
    const wantlist = me.wantlist();
    await wantlist.addRelease('sandbox', 9, { notes: 'later', rating: 3 });
    await wantlist.editNotes('sandbox', 9, { notes: 'soon' });
    assert.ok((await wantlist.getReleases('sandbox')).data.wants.some(w => w.id === 9));
    await wantlist.removeRelease('sandbox', 9);
    const lists = (await me.getLists('sandbox')).data.lists;
    assert.ok((await me.list().getItems(lists[0].id)).data.name);
  });
  await step('marketplace', async () => {
    assert.ok((await me.getInventory('sandbox', { status: 'for sale', sort: 'price' })).data.listings);
    const created = (
      await market.addListing({ release_id: 10, condition: 'Mint (M)', price: 12.5, status: 'For Sale' })
    ).data;
    assert.equal((await market.getListing(created.listing_id, 'GBP')).data.price.currency, 'GBP');
    await market.editListing(created.listing_id, {
      release_id: 10,
      condition: 'Mint (M)',
      price: 13,
      status: 'For Sale',
      comments: 'edited',
    });
    await market.deleteListing(created.listing_id);
    const orders = (await market.getOrders({ status: 'All', sort: 'created' })).data.orders;
    const order = (await market.getOrder(orders[0].id)).data;
    assert.ok(order.next_status.includes(order.status));
    await market.addOrderMessage(order.id, { message: 'Thanks!' });
    assert.ok((await market.getOrderMessages(order.id)).data.messages.length > 0);
    const fresh = orders.find(o => o.status === 'New Order');
    await market.editOrder(fresh.id, { status: 'Buyer Contacted' });
    assert.equal((await market.getFee(10, 'EUR')).data.currency, 'EUR');
    assert.ok((await market.getPriceSuggestions(11)).data);
    assert.ok('num_for_sale' in (await market.getReleaseStats(11, 'EUR')).data);
  });
  await step('inventory export', async () => {
    await inventory.exportInventory();
    const exports = (await inventory.getExports()).data.items;
    assert.equal((await inventory.getExport(exports[0].id)).data.status, 'success');
    const csv = await (await inventory.downloadExport(exports[0].id)).data.text();
    assert.ok(csv.startsWith('listing_id,'));
  });
}

async function oauth() {
  const flow = new DiscogsOAuth('sandbox-key', 'sandbox-secret');
  const request = await flow.getRequestToken('oob');
  const page = await (await fetchPage(`/oauth/authorize?oauth_token=${request.token}`)).text();
  const verifier = /oauth_verifier=(\w+)/.exec(page)[1];
  const access = await flow.getAccessToken(request.token, request.tokenSecret, verifier);
  const discogs = client({
    method: 'oauth',
    consumerKey: 'sandbox-key',
    consumerSecret: 'sandbox-secret',
    accessToken: access.accessToken,
    accessTokenSecret: access.accessTokenSecret,
  });
  await step('oauth flow', async () => {
    assert.equal((await discogs.user().getIdentity()).data.username, 'sandbox');
  });
}

function fetchPage(path) {
  return globalThis.fetch(new URL(path, base));
}

async function tooMany() {
  const impatient = client({ userToken: token });
  await step('429 without backoff', async () => {
    await impatient.database().getRelease(1);
    await impatient.database().getRelease(2);
    await assert.rejects(impatient.database().getRelease(3), error => {
      assert.equal(error.statusCode, 429);
      return true;
    });
  });
  const patient = client({ userToken: token }).setConfig({
    exponentialBackoffMaxRetries: 4,
    exponentialBackoffIntervalMs: 600,
    exponentialBackoffRate: 1.5,
  });
  await step('429 with backoff', async () => {
    assert.equal((await patient.database().getRelease(4)).data.id, 4);
  });
}

const parts = { calls, oauth, '429': tooMany };
try {
  await parts[process.argv[2]]();
  console.log(`done ${steps.length}`);
} catch (error) {
  console.error(`FAILED after [${steps.join(', ')}]:`, error);
  process.exit(1);
}
