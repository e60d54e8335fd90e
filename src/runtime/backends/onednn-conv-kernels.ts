// oneDNN's convolution kernels for tfjs's own kernel names (Conv2D, FusedConv2D and the two
// backprops): geometries oneDNN handles run natively, others return undefined and the plain
// CPU kernel runs (withFallback).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { convOutputSize } from '../../compiler/ops.js';
import { FusedActivation } from '../fused-kernels.js';
import { tf } from '../tf.js';
import { nativeAddon } from './onednn-addon.js';
import { floats, output, outputArray, size, type CpuBackend, type KernelArgs } from './onednn-backend.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** The addon's geometry: [N, H, W, C, KH, KW, OC, OH, OW, SH, SW, DH, DW, top, bottom, left, right]. */
export function geometryOf(info: Conv2DInfo): number[] {
  const { top, bottom, left, right } = info.padInfo;
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    top,
    bottom,
    left,
    right,
  ];
}

function supportedGeometry(info: Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.dataFormat === 'channelsLast' &&
    info.inChannels === info.filterShape[2] && // not depthwise
    Math.min(top, bottom, left, right) >= 0 &&
    info.outHeight >= 1 &&
    info.outWidth >= 1 &&
    info.outHeight === convOutputSize(info.inHeight, info.filterHeight, info.strideHeight, top, bottom, info.dilationHeight) &&
    info.outWidth === convOutputSize(info.inWidth, info.filterWidth, info.strideWidth, left, right, info.dilationWidth)
  );
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** conv info for the addon, or undefined when the plain kernel must run. */
function convInfo(
  inShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Conv2DInfo | undefined {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  return supportedGeometry(info) ? info : undefined;
}

export function conv2d(args: KernelArgs): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const info = convInfo(x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
  const xValues = floats(backend, x);
  const wValues = floats(backend, filter);
  if (!info || !xValues || !wValues) return undefined;
  const y = outputArray(backend, size(info.outShape));
  nativeAddon().convForward(xValues, wValues, null, null, y, geometryOf(info), FusedActivation.None, 0);
  return output(backend, info.outShape, y);
}

export function fusedConv2d(args: KernelArgs): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
  if (preluActivationWeights) return undefined;
  const activation =
    attrs.activation === 'linear'
      ? FusedActivation.None
      : attrs.activation === 'relu'
        ? FusedActivation.Relu
        : attrs.activation === 'leakyrelu' && attrs.leakyreluAlpha !== undefined
          ? FusedActivation.LeakyRelu
          : undefined;
  if (activation === undefined) return undefined;
  const info = convInfo(x!.shape, filter!.shape, attrs);
  const xValues = floats(backend, x!);
  const wValues = floats(backend, filter!);
  if (!info || !xValues || !wValues) return undefined;
  let biasValues: Float32Array | null = null;
  if (bias) {
    // Per-channel bias only ([OC], or [1, .., OC]); other broadcasts use the plain kernel.
    const perChannel = size(bias.shape) === info.outChannels && bias.shape[bias.shape.length - 1] === info.outChannels;
    biasValues = perChannel ? (floats(backend, bias) ?? null) : null;
    if (!biasValues) return undefined;
  }
  const y = outputArray(backend, size(info.outShape));
  nativeAddon().convForward(xValues, wValues, biasValues, null, y, geometryOf(info), activation, attrs.leakyreluAlpha ?? 0);
  return output(backend, info.outShape, y);
}

export function conv2dBackpropInput(args: KernelArgs): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = convInfo(attrs.inputShape, filter.shape, { ...attrs, dilations: 1 });
  const dyValues = floats(backend, dy);
  const wValues = floats(backend, filter);
  if (!info || !dyValues || !wValues) return undefined;
  const dx = outputArray(backend, size(attrs.inputShape));
  nativeAddon().convBackwardData(dyValues, wValues, dx, geometryOf(info));
  return output(backend, attrs.inputShape, dx);
}

export function conv2dBackpropFilter(args: KernelArgs): TensorInfo | undefined {
  const backend = args.backend as CpuBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const info = convInfo(x.shape, attrs.filterShape, { ...attrs, dilations: 1 });
  const xValues = floats(backend, x);
  const dyValues = floats(backend, dy);
  if (!info || !xValues || !dyValues) return undefined;
  const dw = outputArray(backend, size(attrs.filterShape));
  nativeAddon().convBackwardWeights(xValues, dyValues, dw, null, geometryOf(info));
  return output(backend, attrs.filterShape, dw);
}
