// The WebGL backend's limit on one convolution's size (deblur.ts shrinks tiles to it), in
// Node on headless gl and in the browser page alike: no Node-only modules here.
import { tf } from '../tf.js';

/** The most output pixels one convolution with `patchLength` (kh * kw * input channels)
 *  values per pixel may have on the WebGL backend: tfjs runs it as a matrix product over a
 *  packed im2row texture of patchLength x pixels floats (4 per texel), which must fit in
 *  WEBGL_MAX_TEXTURE_SIZE squared (16384 on Mesa: a 5x5 64-channel conv allows ~640k
 *  pixels, less than a 1280x720 frame). 5% margin for tfjs's rounding of texture shapes. */
export function webglConvPixelLimit(patchLength: number): number {
  const maxSize = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  return Math.floor((0.95 * 4 * maxSize * maxSize) / patchLength);
}
