// The checkpoint `netc web --weights DIR` serves, read over HTTP with the same format code
// as the CLI's reader (runtime/checkpoint-format.ts): model.json, then its weight file.
import { UserError } from '../../errors.js';
import { decodeGroup, parseModelJson, type CheckpointMeta } from '../../runtime/checkpoint-format.js';
import type { HostArray } from '../../runtime/params.js';
import type { WebConfig } from '../defaults.js';

export interface PageWeights {
  dir: string;
  meta: CheckpointMeta;
  params: Map<string, HostArray>;
}

async function get(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new UserError(`${url}: the server answered ${response.status} ${response.statusText}`);
  return response;
}

export async function fetchWeights(weights: Extract<WebConfig['weights'], { available: true }>): Promise<PageWeights> {
  const modelFile = `${weights.dir}/model.json`;
  const model = parseModelJson(await (await get('/weights/model.json')).text(), modelFile);
  const group = model.weightsManifest[0];
  if (!group) throw new UserError(`${modelFile}: the manifest lists no weights`);
  const bytes = new Uint8Array(await (await get(`/weights/${encodeURIComponent(group.paths[0])}`)).arrayBuffer());
  return { dir: weights.dir, meta: model.netc, params: decodeGroup(`${weights.dir}/${group.paths[0]}`, weights.dir, group, bytes) };
}
