/**
 * Just enough of the ONNX file format (onnx.proto3, protocol buffers wire
 * format) to adapt the recognition model without a protobuf library:
 * - `withGraphOutput` exposes an intermediate tensor as a graph output by
 *   appending `graph { output { name, type float } }` to the ModelProto.
 *   Protocol buffers merge a repeated occurrence of an embedded message
 *   field (ModelProto.graph = 7) into the first, and concatenate repeated
 *   fields (GraphProto.output = 12), so the result is the same model with
 *   one more output; onnxruntime runs it unchanged otherwise.
 * - `constantTensor` reads the float tensor of the `Constant` node that
 *   produces a given name (PP-OCRv4 keeps every weight as a Constant node:
 *   NodeProto.output = 2, .attribute = 5; AttributeProto.t = 5; TensorProto
 *   .dims = 1, .data_type = 2 (1 = FLOAT), .raw_data = 9, little endian).
 * - `withConstantTensors` writes new values into such tensors (the same
 *   size), e.g. the trained neck of the recogniser (plate-neck.ts).
 * Pure functions over bytes.
 */

const FLOAT = 1;

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

/** The model with `name` (a float tensor inside the graph) added to its outputs. */
export function withGraphOutput(model: Buffer, name: string): Buffer {
  const tensorType = Buffer.from([0x08, FLOAT]); // TypeProto.Tensor.elem_type = FLOAT
  const valueInfo = Buffer.concat([
    lengthDelimited(1, Buffer.from(name, 'utf8')),
    lengthDelimited(2, lengthDelimited(1, tensorType)),
  ]);
  return Buffer.concat([model, lengthDelimited(7, lengthDelimited(12, valueInfo))]);
}

interface Field {
  field: number;
  wire: number;
  /** for wire type 2: the payload; for varints: undefined */
  bytes?: Buffer;
  value?: number;
}

function* fields(buf: Buffer): Generator<Field> {
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('onnx: truncated varint');
      const b = buf[i++]!;
      result += (b & 127) * shift;
      if (b < 128) return result;
      shift *= 128;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield { field, wire, value: readVarint() };
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error('onnx: truncated field');
      yield { field, wire, bytes: buf.subarray(i, i + len) };
      i += len;
    } else throw new Error(`onnx: unsupported wire type ${wire}`);
  }
}

/** The float tensor a `Constant` node produces under `output` (e.g. `linear_85.w_0`). */
export function constantTensor(model: Buffer, output: string): { dims: number[]; data: Float32Array } {
  const { dims, raw } = locateConstant(model, output);
  // copy: the bytes are a view into the file and may not be 4-byte aligned
  const data = new Float32Array(raw.length / 4);
  for (let k = 0; k < data.length; k++) data[k] = raw.readFloatLE(k * 4);
  return { dims, data };
}

/**
 * A copy of the model with the float tensors of some `Constant` nodes
 * replaced (name -> values, each the same size as the tensor it replaces).
 * The raw bytes are overwritten in place, so every length in the file
 * stays the same and the rest of the model is byte for byte the original.
 */
export function withConstantTensors(model: Buffer, replacements: ReadonlyMap<string, Float32Array>): Buffer {
  const out = Buffer.from(model);
  for (const [name, values] of replacements) {
    const { raw } = locateConstant(out, name);
    if (raw.length !== values.length * 4) {
      throw new RangeError(`onnx: ${name} holds ${raw.length / 4} floats, got ${values.length}`);
    }
    values.forEach((v, k) => raw.writeFloatLE(v, k * 4));
  }
  return out;
}

/** The dims and raw bytes (a view into `model`) of the float tensor a `Constant` node produces. */
function locateConstant(model: Buffer, output: string): { dims: number[]; raw: Buffer } {
  for (const g of fields(model)) {
    if (g.field !== 7 || !g.bytes) continue;
    for (const n of fields(g.bytes)) {
      if (n.field !== 1 || !n.bytes) continue;
      let produces = false;
      let opType = '';
      let tensor: Buffer | null = null;
      for (const f of fields(n.bytes)) {
        if (f.field === 2 && f.bytes?.toString('utf8') === output) produces = true;
        if (f.field === 4 && f.bytes) opType = f.bytes.toString('utf8');
        if (f.field === 5 && f.bytes) {
          for (const a of fields(f.bytes)) if (a.field === 5 && a.bytes) tensor = a.bytes;
        }
      }
      if (!produces) continue;
      if (opType !== 'Constant' || !tensor) throw new Error(`onnx: ${output} is not a Constant tensor`);
      const dims: number[] = [];
      let type = 0;
      let raw: Buffer | null = null;
      for (const t of fields(tensor)) {
        if (t.field === 1 && t.value !== undefined) dims.push(t.value);
        if (t.field === 1 && t.bytes) dims.push(...packedVarints(t.bytes)); // packed repeated int64
        if (t.field === 2 && t.value !== undefined) type = t.value;
        if (t.field === 9 && t.bytes) raw = t.bytes;
      }
      if (type !== FLOAT || !raw) throw new Error(`onnx: ${output} is not a float tensor with raw data`);
      return { dims, raw };
    }
  }
  throw new Error(`onnx: no node produces ${output}`);
}

function packedVarints(buf: Buffer): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 1;
  for (const b of buf) {
    value += (b & 127) * shift;
    if (b < 128) {
      out.push(value);
      value = 0;
      shift = 1;
    } else shift *= 128;
  }
  return out;
}
