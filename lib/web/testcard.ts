/**
 * The one ffmpeg test-card recipe, for the demo, the tests and the benchmarks: ffmpeg's test
 * pattern (with a running clock) and a 440 Hz tone, encoded for a live stream — fragmented MP4
 * (H.264, + AAC; browsers play it as it arrives with Media Source Extensions), live WebM (VP9 +
 * Opus, as MediaRecorder writes it), MPEG-TS or FLV (H.264 + AAC, what an encoder pushes) — with a
 * keyframe every second. `testCardArgs` gives the argv; `testCard` runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'

export type TestCardContainer = 'mp4' | 'webm' | 'mpegts' | 'flv'

export interface TestCardRecipe {
  /** Length of the programme in seconds (default 30). */
  seconds?: number
  width?: number
  height?: number
  fps?: number
  /** Encode at the speed of the clock, as a live source would (default true). */
  realtime?: boolean
  /** The test pattern (default true). */
  video?: boolean
  /** The tone (default: with every container but 'mp4', which is video only unless asked). */
  audio?: boolean
  /** The tone's sample rate (default 48000). */
  sampleRate?: number
  /** Video bit rate in kbit/s (default: the container's; H.264 at its default quality). */
  kbps?: number
  /** What the card is encoded as (default 'mp4': fragmented, browser-playable). */
  container?: TestCardContainer
  /** Codec and muxer arguments instead of the container's (the codec-string tests). */
  encode?: string[]
  /** Where ffmpeg writes (default 'pipe:1', its stdout); a URL pushes to an ingest server. */
  to?: string
}

/** ffmpeg arguments that turn any input into browser-playable fragmented MP4 on stdout. */
export const FRAGMENTED_MP4_ARGS = ['-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency',
  '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1']

const H264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency']

function encodeArgs (container: TestCardContainer, fps: number, kbps: number | undefined, video: boolean, audio: boolean): string[] {
  const rate = kbps === undefined ? [] : ['-b:v', `${kbps}k`]
  const gop = ['-g', String(fps), '-keyint_min', String(fps)]
  if (container === 'webm') {
    return [...(video ? ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p', ...gop, '-b:v', `${kbps ?? 400}k`] : []),
      ...(audio ? ['-c:a', 'libopus'] : []), '-f', 'webm', '-cluster_time_limit', '1000', '-live', '1']
  }
  const v = video ? [...H264, ...(container === 'mp4' ? ['-profile:v', 'baseline'] : []), ...gop, ...rate] : []
  const a = audio ? ['-c:a', 'aac', '-b:a', container === 'mp4' ? '96k' : '64k'] : []
  const mux = container === 'mp4' ? ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof'] : ['-f', container]
  return [...v, ...a, ...mux]
}

/** The ffmpeg argv (without the executable) for a test card. */
export function testCardArgs (r: TestCardRecipe = {}): string[] {
  const { seconds = 30, width = 320, height = 240, fps = 25, realtime = true, video = true, sampleRate = 48000, container = 'mp4' } = r
  const audio = r.audio ?? container !== 'mp4'
  if (!video && !audio) throw new Error('testCardArgs: neither video nor audio')
  const re = realtime ? ['-re'] : []
  return ['-hide_banner', '-loglevel', 'error', '-nostdin',
    ...(video ? [...re, '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`] : []),
    ...(audio ? [...re, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}:duration=${seconds}`] : []),
    ...(r.encode ?? encodeArgs(container, fps, r.kbps, video, audio)), r.to ?? 'pipe:1']
}

/** ffmpeg executable: the FFMPEG env var or `ffmpeg`. */
export function ffmpegPath (): string {
  return process.env.FFMPEG ?? 'ffmpeg'
}

export interface TestCardOptions extends TestCardRecipe {
  /** ffmpeg executable (default: FFMPEG env var or `ffmpeg`). */
  ffmpeg?: string
}

export interface TestCard {
  stream: Readable
  process: ChildProcess
  stop (): void
}

/** Runs a test card (default: 30 s of fragmented MP4, video only, in real time) and streams its bytes. */
export function testCard (opts: TestCardOptions = {}): TestCard {
  const child = spawn(opts.ffmpeg ?? ffmpegPath(), testCardArgs({ ...opts, to: 'pipe:1' }), { stdio: ['ignore', 'pipe', 'inherit'] })
  return { stream: child.stdout!, process: child, stop: () => { if (child.exitCode === null) child.kill('SIGTERM') } }
}
