// What `netc web` opens without --model: the bundled trained model and its weights, paths
// relative to the project root. Until the bundled model lands, `fallback` opens for editing
// and costing (no weights, so the page says it cannot run).
export const DEFAULT_WEB_MODEL = {
  model: 'models/deblur-lite.net',
  weights: 'weights/deblur-lite',
  fallback: 'models/deepdeblur-pytorch.net',
} as const;

/** The page's configuration, served as /config.json. */
export interface WebConfig {
  model: { file: string; text: string };
  /** --set overrides applied to the editor's text. */
  set: Record<string, number>;
  weights: { available: true; dir: string; step: number; file: string } | { available: false; reason: string };
  tile: number;
  overlap: number;
}
