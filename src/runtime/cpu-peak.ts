// The machine's float32 peak, so a benchmark can say how far from the limit it runs:
// cores x GHz x FLOP per cycle per core, the last from the widest FMA the CPU has.
//   AVX-512 on Intel: two 512-bit FMA units (Xeon Scalable Gold/Platinum and later)
//                     = 2 x 16 lanes x 2 FLOP = 64
//   AVX-512 on AMD (Zen4): executed on two 256-bit units               = 32
//   AVX2 + FMA: two 256-bit FMA units (Haswell and later, Zen 2/3)     = 32
//   AVX without FMA: one 256-bit add and one multiply per cycle        = 16
//   SSE only                                                           =  8
// Cores are the logical CPUs Node sees (a VM's vCPUs); the clock is the highest the kernel
// reports (cpufreq's maximum where it exists, else /proc/cpuinfo's MHz). A VM without
// cpufreq reports the base clock while the cores run at turbo, so there the peak is low
// and a fraction can exceed 1 (the README's Performance section shows one).
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface CpuPeak {
  cores: number;
  ghz: number;
  flopPerCycle: number;
  /** The instruction set the FLOP per cycle assumes, e.g. 'avx512 (Intel)'. */
  isa: string;
  /** 0 when the clock is not reported (then no fraction of peak can be given). */
  gflopPerSecond: number;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** FLOP per cycle per core of float32 FMAs, from /proc/cpuinfo's vendor and flags. */
export function flopPerCycle(vendor: string, flags: Set<string>): { flopPerCycle: number; isa: string } {
  const amd = vendor === 'AuthenticAMD';
  if (flags.has('avx512f')) return amd ? { flopPerCycle: 32, isa: 'avx512 (AMD, 256-bit units)' } : { flopPerCycle: 64, isa: 'avx512 (Intel, 2 FMA units)' };
  if (flags.has('avx2') && flags.has('fma')) return { flopPerCycle: 32, isa: 'avx2+fma' };
  if (flags.has('avx')) return { flopPerCycle: 16, isa: 'avx' };
  return { flopPerCycle: 8, isa: 'sse' };
}

export function cpuPeak(): CpuPeak {
  const info = readOr('/proc/cpuinfo');
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(info)?.[1] ?? '';
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/));
  const maxKhz = Number(readOr('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq').trim()) || 0;
  const cpuinfoMhz = [...info.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  const mhz = Math.max(maxKhz / 1000, ...cpuinfoMhz, ...os.cpus().map((c) => c.speed), 0);
  const cores = os.cpus().length;
  const ghz = mhz / 1000;
  const isa = flopPerCycle(vendor, flags);
  return { cores, ghz, ...isa, gflopPerSecond: cores * ghz * isa.flopPerCycle };
}
