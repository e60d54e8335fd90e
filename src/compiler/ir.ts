// The compiler's output and the runtime's input: a checked, shape-annotated program.
// Everything the runtime, the cost model and the exporters need is here; nothing here
// refers back to the syntax tree except source spans (for error messages and scopes).

/** A span of source text; lines and columns are 1-based. */
export interface SourceSpan {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  offset: number;
  length: number;
}

/** Tensor shapes are NHWC for images ([N, H, W, C]) and [N, F] after flatten/dense. */
export type Shape = number[];

export type Activation = 'relu' | 'leaky_relu' | 'sigmoid';

/** Operation attributes, one shape per op. The op table in ops.ts is the single definition
 *  of each op's shape rule, parameters, cost and receptive field. */
export interface Conv2dAttrs {
  filters: number;
  kernel: [number, number];
  stride: [number, number];
  /** Explicit zero padding [top, bottom, left, right]. */
  pad: [number, number, number, number];
  bias: boolean;
  /** `init = zeros`: weights and bias start at 0 instead of PyTorch's default. */
  zeroInit?: boolean;
  /** Set by the fusion pass: activation applied after conv (+ bias) (+ residual). */
  activation?: Activation;
  alpha?: number; // leaky_relu slope when activation is leaky_relu
  /** Set by the fusion pass: the node id whose value is added after the conv + bias,
   *  before the activation. It is also listed last in `inputs`. */
  residual?: string;
}
export interface LeakyReluAttrs { alpha: number }
export interface ConcatAttrs { axis: number } // always 3 (channels) in NHWC
export interface PixelShuffleAttrs { factor: number } // PyTorch PixelShuffle channel order
export interface PyramidDownAttrs {
  /** Gaussian blur (sigma, radius taps, 'reflect' = edge-repeated borders as scipy),
   *  then a 2x2 mean (skimage pyramid_gaussian); the size rule is ops.ts's (exact halving). */
  sigma: number;
  radius: number;
}
export interface DenseAttrs { units: number; bias: boolean }
/** Each side times `factor`. nearest: output pixel i reads input pixel floor(i / factor);
 *  bilinear: PyTorch's align_corners=False (ops.ts's upsampleTaps). */
export interface UpsampleAttrs { factor: number; mode: 'nearest' | 'bilinear' }
/** Mean of each kernel x kernel window, windows `stride` apart, no padding (PyTorch avg_pool2d). */
export interface AvgPoolAttrs { kernel: number; stride: number }
export interface AffineAttrs { scale: number; shift: number } // y = x * scale + shift

export type OpName =
  | 'conv2d'
  | 'relu'
  | 'leaky_relu'
  | 'sigmoid'
  | 'add'
  | 'concat'
  | 'pixel_shuffle'
  | 'pyramid_down'
  | 'upsample'
  | 'avg_pool'
  | 'dense'
  | 'flatten'
  | 'affine'
  | 'repeat';

/** The ops that compute (lowerings and emitters are Records over these, so an op without a
 *  case is a type error); `repeat` is structure, which the walkers in walk.ts expand. */
export type PrimitiveOp = Exclude<OpName, 'repeat'>;

export interface ParamSpec {
  /** Name relative to the enclosing graph (see Node.params). */
  name: string;
  shape: number[];
  /** PyTorch default initialization for the layer (kaiming_uniform(a=sqrt(5)) for weights,
   *  U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases). */
  init: { kind: 'kaiming_uniform' | 'bias_uniform' | 'zeros'; fanIn: number };
}

export interface Node {
  /** Unique within its graph. */
  id: string;
  op: OpName;
  /** Ids of the nodes whose outputs this node consumes, in order. */
  inputs: string[];
  attrs: Record<string, unknown>;
  /** Parameters owned by this node; names are full paths from the graph root, e.g.
   *  'L.2/ScaleNet/conv0.weight'. Inside a repeat body they are relative to the
   *  iteration (see `repeat`). */
  params: ParamSpec[];
  /** Output shape for the program's input size (batch 1). */
  shape: Shape;
  /** Human path of where the node comes from, in the file's own words,
   *  e.g. 'Generator / L[1] / ScaleNet / ResBlock x 19 / conv'. */
  scope: string;
  loc: SourceSpan;
  /** op === 'repeat': the body is applied `count` times in sequence; iteration i owns the
   *  body's params with names `${paramPrefix}.${i}/${bodyParam.name}`. */
  repeat?: { count: number; body: Graph; paramPrefix: string };
}

export interface GraphValue {
  name: string;
  id: string;
  shape: Shape;
}

export interface Graph {
  name: string;
  inputs: GraphValue[];
  /** Topologically ordered. */
  nodes: Node[];
  /** Outputs in order. A list-valued output `L` of K levels appears as L[0] .. L[K-1]. */
  outputs: GraphValue[];
}

// ---------------------------------------------------------------- losses and training

/** Loss expressions, evaluated by the trainer per batch. Images are in the model's
 *  input/output units (the runtime feeds 0..1 RGB). */
export type LossExpr =
  | { kind: 'const'; value: number }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: LossExpr; right: LossExpr }
  /** Mean over all elements of the per-element error (the paper's 1/(c w h) ||.||^2). */
  | { kind: 'distance'; fn: 'mse' | 'l1'; output: number; target: TargetRef }
  /** mean or sum over pyramid levels; the compiler expands `mean(k in 0..K) f(k)`
   *  so that terms[i] is f(i). */
  | { kind: 'reduce'; fn: 'mean' | 'sum'; terms: LossExpr[] }
  /** GAN loss, BCE on logits: the generator minimizes -log D(fake); the discriminator
   *  is trained to minimize BCE(D(real), 1) + BCE(D(fake), 0). */
  | { kind: 'adversarial'; discriminator: string; fakeOutput: number; real: TargetRef }
  | { kind: 'term'; name: string };

/** A level of the target pyramid (level 0 = the full-size sharp image). */
export interface TargetRef { level: number }

export interface LossIR {
  /** The sharp target pyramid: levels and the down-sampling attributes. */
  target: { levels: number; down: PyramidDownAttrs };
  /** Named terms in declaration order; `total` (the objective) is among them. */
  terms: { name: string; expr: LossExpr; loc: SourceSpan }[];
  objective: string;
}

export type Augmentation =
  | { kind: 'flip' } // horizontal and vertical, each with p = 0.5
  | { kind: 'rot90' }
  | { kind: 'permute_channels' }
  | { kind: 'saturation'; low: number; high: number }
  /** Gaussian noise on the blurry input; its sigma is drawn from N(mean, std^2). */
  | { kind: 'noise'; sigmaMean: number; sigmaStd: number }
  /** The blurry crop made anew from the sharp one: a fresh camera-shake kernel of path
   *  length in [minLength, maxLength] pixels per crop, in linear light, with sensor noise. */
  | { kind: 'shake'; minLength: number; maxLength: number };

export interface TrainIR {
  patch: number;
  batch: number;
  iterations: number;
  optimizer: { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number };
  /** step: lr is multiplied by `factor` at each iteration in `at`; cosine: lr falls from
   *  lr to `min` along a half cosine over the iterations. */
  schedule: { kind: 'constant' } | { kind: 'step'; at: number[]; factor: number } | { kind: 'cosine'; min: number };
  /** An exponential moving average of the generator's weights, updated after each update:
   *  what checkpoints hold as weights and what validation, deblur and export use. */
  average?: { kind: 'ema'; decay: number };
  augment: Augmentation[];
  data?: { kind: 'gopro'; root: string; blur: 'blur' | 'blur_gamma' };
  /** Checkpoint and validation cadence (steps), if declared. */
  checkpointEvery?: number;
  validateEvery?: number;
}

export interface Program {
  file: string;
  /** sha256 of the source text. */
  sourceHash: string;
  /** Top-level constants after --set overrides. */
  constants: Record<string, number>;
  overrides: Record<string, number>;
  /** The [H, W] the shapes were inferred for. */
  inputSize: [number, number];
  models: Record<string, Graph>;
  /** The model the runtime deblurs with and the trainer optimizes. */
  generator: string;
  discriminator?: string;
  loss?: LossIR;
  train?: TrainIR;
}
