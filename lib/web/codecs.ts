/**
 * Codec strings (RFC 6381 `codecs=` parameters, as Media Source Extensions want them) from the
 * decoder configuration records of an initialisation segment. Each function takes the payload of
 * the record (after the box or element header) and returns the string, or null when the record
 * is too short or malformed. Pure: no DOM, no Node.
 *
 *   record   where                          string                  defined by
 *   avcC     avc1/avc3 sample entry         avc1.PPCCLL             ISO/IEC 14496-15 §5.3.3, RFC 6381 §3.3
 *   hvcC     hvc1/hev1 sample entry         hvc1.[S]P.C.TL.K[.K…]   ISO/IEC 14496-15 §8.3.3, Annex E
 *   av1C     av01 entry, WebM CodecPrivate  av01.P.LLT.DD           AV1 Codec ISO Media File Format Binding §2.3, Codecs Parameter String
 *   vpcC     vp09 sample entry              vp09.PP.LL.DD           VP Codec ISO Media File Format Binding §3
 *   esds     mp4a sample entry              mp4a.OO[.A]             ISO/IEC 14496-1 §7.2.6, 14496-3 §1.6.2.1, RFC 6381 §3.3
 *   dOps     Opus sample entry              opus                    Encapsulation of Opus in ISO BMFF §4.3
 */

function hex2 (x: number, upper = false): string {
  const s = x.toString(16).padStart(2, '0')
  return upper ? s.toUpperCase() : s
}

/** avcC: configurationVersion, AVCProfileIndication, profile_compatibility, AVCLevelIndication. */
export function avcCodec (entry: string, avcC: Uint8Array): string | null {
  if (avcC.length < 4 || avcC[0] !== 1) return null
  return `${entry}.${hex2(avcC[1]!)}${hex2(avcC[2]!)}${hex2(avcC[3]!)}`
}

/**
 * hvcC (14496-15 Annex E): general_profile_space as '' / A / B / C before general_profile_idc;
 * general_profile_compatibility_flags with their 32 bits in reverse order, hex without leading
 * zeros; L or H (general_tier_flag) and general_level_idc; the six bytes of
 * general_constraint_indicator_flags in hex, each a part of its own, trailing zero bytes left out.
 */
export function hevcCodec (entry: string, hvcC: Uint8Array): string | null {
  if (hvcC.length < 13 || hvcC[0] !== 1) return null
  const b1 = hvcC[1]!
  const space = ['', 'A', 'B', 'C'][b1 >> 6]!
  const tier = (b1 & 0x20) !== 0 ? 'H' : 'L'
  const profile = b1 & 0x1f
  const compat = ((hvcC[2]! << 24) | (hvcC[3]! << 16) | (hvcC[4]! << 8) | hvcC[5]!) >>> 0
  let reversed = 0
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) reversed |= 1 << (31 - i)
  const constraints = Array.from(hvcC.subarray(6, 12))
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop()
  const level = hvcC[12]!
  return [`${entry}.${space}${profile}`, (reversed >>> 0).toString(16).toUpperCase(), `${tier}${level}`, ...constraints.map((c) => hex2(c, true))].join('.')
}

/**
 * av1C: marker(1) version(7); seq_profile(3) seq_level_idx_0(5); seq_tier_0(1) high_bitdepth(1)
 * twelve_bit(1) monochrome(1) chroma_subsampling_x(1) chroma_subsampling_y(1) chroma_sample_position(2).
 * The short form: av01.P.LLT.DD (profile, two-digit level, M or H, bit depth).
 */
export function av1Codec (av1C: Uint8Array): string | null {
  if (av1C.length < 4 || av1C[0] !== 0x81) return null
  const profile = av1C[1]! >> 5
  const level = av1C[1]! & 0x1f
  const b2 = av1C[2]!
  const tier = (b2 & 0x80) !== 0 ? 'H' : 'M'
  const high = (b2 & 0x40) !== 0
  const twelve = (b2 & 0x20) !== 0
  const depth = profile === 2 && high ? (twelve ? 12 : 10) : high ? 10 : 8
  return `av01.${profile}.${String(level).padStart(2, '0')}${tier}.${String(depth).padStart(2, '0')}`
}

/** vpcC (a FullBox: version and flags first): profile, level, bitDepth(4) chromaSubsampling(3) fullRange(1). */
export function vp9Codec (vpcC: Uint8Array): string | null {
  if (vpcC.length < 7) return null
  const profile = vpcC[4]!
  const level = vpcC[5]!
  const depth = vpcC[6]! >> 4
  if (profile > 3 || (depth !== 8 && depth !== 10 && depth !== 12)) return null
  const two = (n: number): string => String(n).padStart(2, '0')
  return `vp09.${two(profile)}.${two(level)}.${two(depth)}`
}

/**
 * esds (a FullBox): ES_Descriptor (tag 3) → DecoderConfigDescriptor (tag 4: objectTypeIndication)
 * → DecoderSpecificInfo (tag 5: for MPEG-4 audio, 0x40, the AudioSpecificConfig whose first 5 bits,
 * or 6 more after 31, are the audio object type: 2 AAC-LC, 5 HE-AAC (SBR), 29 HE-AACv2 (PS)).
 * mp4a.40.AOT for MPEG-4 audio, mp4a.OO (hex) for the others (e.g. mp4a.6B: MP3).
 */
export function mp4aCodec (esds: Uint8Array): string | null {
  let i = 4 // version and flags
  /** Reads a descriptor header at i: [tag, payload start, payload end]. */
  const descriptor = (at: number): [number, number, number] | null => {
    if (at >= esds.length) return null
    const tag = esds[at]!
    let len = 0
    let p = at + 1
    for (let k = 0; k < 4; k++) {
      if (p >= esds.length) return null
      const c = esds[p++]!
      len = (len << 7) | (c & 0x7f)
      if ((c & 0x80) === 0) break
    }
    return p + len <= esds.length ? [tag, p, p + len] : null
  }
  const es = descriptor(i)
  if (!es || es[0] !== 3) return null
  i = es[1]
  if (i + 3 > es[2]) return null
  const flags = esds[i + 2]!
  i += 3
  if (flags & 0x80) i += 2 // dependsOn_ES_ID
  if (flags & 0x40) i += 1 + (esds[i] ?? 0) // URL
  if (flags & 0x20) i += 2 // OCR_ES_Id
  const dc = descriptor(i)
  if (!dc || dc[0] !== 4 || dc[2] - dc[1] < 13) return null
  const oti = esds[dc[1]]!
  if (oti !== 0x40) return `mp4a.${hex2(oti, true)}`
  const dsi = descriptor(dc[1] + 13)
  if (!dsi || dsi[0] !== 5 || dsi[2] - dsi[1] < 1) return 'mp4a.40'
  let aot = esds[dsi[1]]! >> 3
  if (aot === 31) {
    if (dsi[2] - dsi[1] < 2) return null
    aot = 32 + (((esds[dsi[1]]! & 0x07) << 3) | (esds[dsi[1] + 1]! >> 5))
  }
  return `mp4a.40.${aot}`
}

/** dOps: Version 0, then the channel count and the rest; the codec string is just `opus`. */
export function opusCodec (dOps: Uint8Array): string | null {
  return dOps.length >= 11 && dOps[0] === 0 ? 'opus' : null
}
