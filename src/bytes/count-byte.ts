/**
 * Counts one byte value (the line feed) in large buffers at SIMD speed. Skipping the lines between two race
 * reports only needs their number, and a `Buffer.indexOf` per line costs a native call for every ~100
 * bytes: on a 1 GiB log that was more time than reading the file. A WebAssembly SIMD loop compares 16
 * bytes per step instead.
 *
 * WebAssembly code can only read its own memory, so a buffer from `allocateCountableBuffer` (a view of
 * such a memory) is counted in place; any other buffer is copied through a scratch memory piece by piece.
 */

// The function, in WebAssembly text format:
//   (func (export "countByte") (param $start i32) (param $end i32) (param $byte i32) (result i32)
//     (local $count i32) (local $needle v128)
//     $needle = i8x16.splat($byte)
//     while $start + 16 <= $end: $count += popcnt(i8x16.bitmask(i8x16.eq(v128.load($start), $needle))); $start += 16
//     while $start < $end:       $count += (i32.load8_u($start) == $byte); $start += 1
//     return $count)
const START = 0;
const END = 1;
const BYTE = 2;
const COUNT = 3;
const NEEDLE = 4;

const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  i32Load8U: 0x2d,
  i32Const: 0x41,
  i32Eq: 0x46,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Popcnt: 0x69,
  i32Add: 0x6a,
  simd: 0xfd,
  emptyBlockType: 0x40,
} as const;
const simd = { v128Load: 0x00, i8x16Splat: 0x0f, i8x16Eq: 0x23, i8x16Bitmask: 0x64 } as const;
const type = { i32: 0x7f, v128: 0x7b, func: 0x60 } as const;
const NO_ALIGNMENT_HINT_NO_OFFSET = [0x00, 0x00];

const advance = (by: number) => [op.localGet, START, op.i32Const, by, op.i32Add, op.localSet, START];

const body = [
  ...[2, 1, type.i32, 1, type.v128], // locals: $count i32, $needle v128
  ...[op.localGet, BYTE, op.simd, simd.i8x16Splat, op.localSet, NEEDLE],
  ...[op.block, op.emptyBlockType, op.loop, op.emptyBlockType],
  ...[op.localGet, START, op.i32Const, 16, op.i32Add, op.localGet, END, op.i32GtU, op.brIf, 1],
  ...[op.localGet, COUNT, op.localGet, START, op.simd, simd.v128Load, ...NO_ALIGNMENT_HINT_NO_OFFSET],
  ...[op.localGet, NEEDLE, op.simd, simd.i8x16Eq, op.simd, simd.i8x16Bitmask, op.i32Popcnt, op.i32Add, op.localSet, COUNT],
  ...advance(16),
  ...[op.br, 0, op.end, op.end],
  ...[op.block, op.emptyBlockType, op.loop, op.emptyBlockType],
  ...[op.localGet, START, op.localGet, END, op.i32GeU, op.brIf, 1],
  ...[op.localGet, COUNT, op.localGet, START, op.i32Load8U, ...NO_ALIGNMENT_HINT_NO_OFFSET],
  ...[op.localGet, BYTE, op.i32Eq, op.i32Add, op.localSet, COUNT],
  ...advance(1),
  ...[op.br, 0, op.end, op.end],
  ...[op.localGet, COUNT, op.end],
];

const bytesOf = (text: string) => [text.length, ...Buffer.from(text, 'latin1')];
const section = (id: number, content: number[]) => [id, ...unsignedLeb128(content.length), ...content];

function unsignedLeb128(value: number): number[] {
  const out: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return out;
}

const MODULE_BYTES = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, [1, type.func, 3, type.i32, type.i32, type.i32, 1, type.i32]),
  ...section(2, [1, ...bytesOf('env'), ...bytesOf('memory'), 0x02, 0x00, 1]), // imports a memory of ≥ 1 page
  ...section(3, [1, 0]),
  ...section(7, [1, ...bytesOf('countByte'), 0x00, 0]),
  ...section(10, [1, ...unsignedLeb128(body.length), ...body]),
]);

type CountIn = (start: number, end: number, byte: number) => number;

const WASM_PAGE_BYTES = 64 * 1024;
const countingModule = new WebAssembly.Module(MODULE_BYTES);
const counterOf = new WeakMap<ArrayBufferLike, CountIn>();

/** A buffer of `size` bytes that `countByte` scans in place. */
export function allocateCountableBuffer(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / WASM_PAGE_BYTES));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(countingModule, { env: { memory } });
  counterOf.set(memory.buffer, instance.exports.countByte as CountIn);
  return Buffer.from(memory.buffer, 0, size);
}

const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/** How many bytes of `bytes[start, end)` equal `byte`. */
export function countByte(bytes: Uint8Array, start: number, end: number, byte: number): number {
  const inPlace = counterOf.get(bytes.buffer);
  if (inPlace) return inPlace(bytes.byteOffset + start, bytes.byteOffset + end, byte);
  scratch ??= allocateCountableBuffer(SCRATCH_BYTES);
  const countScratch = counterOf.get(scratch.buffer)!;
  let count = 0;
  for (let from = start; from < end; from += SCRATCH_BYTES) {
    const to = Math.min(end, from + SCRATCH_BYTES);
    scratch.set(bytes.subarray(from, to));
    count += countScratch(0, to - from, byte);
  }
  return count;
}
