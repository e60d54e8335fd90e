// Video frames through Debian's ffmpeg, spawned as a child process and streamed: ffprobe
// reads the stream's size, rate and frame count; ffmpeg decodes (any container and codec it
// knows: mp4, mpg, mkv, ...), selects a frame range, scales, optionally interpolates new
// frames between the stored ones (motion-compensated `minterpolate`), and writes raw RGB24
// frames to a pipe that is read one frame at a time, so memory stays at a few frames.
import { spawn } from 'node:child_process';
import { UserError } from '../../errors.js';

export interface VideoInfo {
  file: string;
  width: number;
  height: number;
  /** Frames per second as ffprobe gives it, e.g. '30000/1001'. */
  rate: string;
  fps: number;
  /** Decoded frames. */
  frames: number;
}

export interface DecodeOptions {
  /** 1-based, inclusive frame range of the stored frames. */
  range?: [number, number];
  /** Output size (area-averaged when smaller); default the video's. */
  size?: [number, number];
  /** Frames per stored frame after motion-compensated interpolation (1: none). Stored frame i
   *  of the range comes out as frame i * interpolate. */
  interpolate?: number;
}

const MISSING = "ffmpeg is not installed: netc decodes video with Debian's ffmpeg (apt-get install ffmpeg; npm run setup installs it)";

/** Runs a program to completion, collecting stdout (small outputs only). */
function run(program: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new UserError(MISSING) : err));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const lastLine = (text: string) => text.trim().split('\n').filter(Boolean).pop() ?? 'no message';

/** The video stream's size, frame rate and frame count (counted by decoding when the
 *  container does not say). */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const probe = async (count: boolean) => {
    const { code, stdout, stderr } = await run('ffprobe', [
      '-v', 'error', '-select_streams', 'v:0', ...(count ? ['-count_frames'] : []),
      '-show_entries', `stream=width,height,r_frame_rate,${count ? 'nb_read_frames' : 'nb_frames'}`, '-of', 'json', file,
    ]);
    if (code !== 0) throw new UserError(`${file}: ffmpeg cannot read it as a video (${lastLine(stderr)})`);
    const stream = (JSON.parse(stdout) as { streams?: Record<string, string | number>[] }).streams?.[0];
    if (!stream) throw new UserError(`${file}: no video stream`);
    return stream;
  };
  let stream = await probe(false);
  if (!(Number(stream.nb_frames) > 0)) stream = await probe(true);
  const frames = Number(stream.nb_frames ?? stream.nb_read_frames);
  const [num, den] = String(stream.r_frame_rate).split('/').map(Number);
  const info = { file, width: Number(stream.width), height: Number(stream.height), rate: String(stream.r_frame_rate), fps: num / (den || 1), frames };
  if (!(info.width > 0 && info.height > 0 && info.fps > 0)) throw new UserError(`${file}: ffprobe reports no usable size or frame rate`);
  if (!(frames > 0)) throw new UserError(`${file}: the video has no frames ffmpeg can decode`);
  return info;
}

/** The ffmpeg filter chain for the options. */
function filters(info: VideoInfo, options: DecodeOptions): string {
  const chain: string[] = [];
  if (options.range) chain.push(`select='between(n\\,${options.range[0] - 1}\\,${options.range[1] - 1})'`);
  const [w, h] = options.size ?? [info.width, info.height];
  if (w !== info.width || h !== info.height) chain.push(`scale=${w}:${h}:flags=area`);
  const k = options.interpolate ?? 1;
  if (k > 1) {
    // The output rate is an exact multiple of the input's, so every k-th frame is a stored one.
    const [num, den] = info.rate.split('/').map(Number);
    chain.push(`minterpolate=fps=${num * k}/${den || 1}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1`);
  }
  return chain.length ? chain.join(',') : 'null';
}

/** Decodes the video's frames as RGB24 (HWC) arrays, one at a time, in order. */
export async function* decodeFrames(info: VideoInfo, options: DecodeOptions = {}): AsyncGenerator<Uint8Array> {
  const [w, h] = options.size ?? [info.width, info.height];
  const frameBytes = w * h * 3;
  const child = spawn('ffmpeg', [
    '-v', 'error', '-nostdin', '-i', info.file, '-vf', filters(info, options),
    '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new UserError(MISSING) : err));
    child.on('close', (code) => resolve(code ?? 1));
  });
  exited.catch(() => {}); // surfaced below
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let count = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          count++;
          yield frame;
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    const code = await exited;
    if (code !== 0) throw new UserError(`${info.file}: ffmpeg could not decode it (${lastLine(stderr)})`);
    if (count === 0) throw new UserError(`${info.file}: no frames decoded${options.range ? ` in --range ${options.range[0]}:${options.range[1]}` : ''}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL'); // the consumer stopped early
  }
}
