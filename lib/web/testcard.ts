/**
 * A live test programme for demos and tests: ffmpeg's test pattern (with a running clock) encoded
 * as fragmented MP4 in real time — H.264 baseline, one fragment per second, a format browsers play
 * as it arrives with Media Source Extensions.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'

export interface TestCardOptions {
  /** Length of the programme in seconds (default 30). */
  seconds?: number
  width?: number
  height?: number
  fps?: number
  /** Encode at the speed of the clock, as a live source would (default true). */
  realtime?: boolean
  /** ffmpeg executable (default: FFMPEG env var or `ffmpeg`). */
  ffmpeg?: string
}

export interface TestCard {
  stream: Readable
  process: ChildProcess
  stop (): void
}

/** ffmpeg arguments that turn any input into browser-playable fragmented MP4 on stdout. */
export const FRAGMENTED_MP4_ARGS = ['-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency',
  '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1']

export function testCard (opts: TestCardOptions = {}): TestCard {
  const { seconds = 30, width = 320, height = 240, fps = 25, realtime = true } = opts
  const bin = opts.ffmpeg ?? process.env.FFMPEG ?? 'ffmpeg'
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', ...(realtime ? ['-re'] : []),
    '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
    '-g', String(fps), '-keyint_min', String(fps), ...FRAGMENTED_MP4_ARGS]
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return { stream: child.stdout!, process: child, stop: () => { if (child.exitCode === null) child.kill('SIGTERM') } }
}
