using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Quantization;

/// <summary>
/// A kernel's packed B operands for a B that is an activation (a new value every run, one K x N matrix per batch):
/// the buffers are made for the first run of a shape and packed again in place by every later run, all batches in
/// one parallel loop, so a steady-state run allocates nothing.
/// </summary>
internal sealed unsafe class QgemmPackedBatches
{
    private QgemmPackedB[] _packed = [];

    // The whole float B quantized (strided views), kept from run to run.
    private byte[] _quantized = [];

    /// <summary>Packs batch i of the uint8/int8 B, the row-major K x N matrix <paramref name="offsets"/>[i] bytes on.</summary>
    public QgemmPackedB[] Pack(byte* b, int[] offsets, int count, int k, int n, bool signed, ParallelRunner parallel)
    {
        var body = new PackBody(For(count, k, n), b, offsets, signed, null, 0, 0, n, 1);
        parallel.ForChunks(count, count, ref body);
        return _packed;
    }

    /// <summary>Packs batch i of float B quantized to uint8 with <paramref name="scale"/> and <paramref name="zeroPoint"/>, as DynamicQuantizeLinear would.</summary>
    public QgemmPackedB[] PackQuantized(float* b, int[] offsets, int count, int k, int n, float scale, int zeroPoint, ParallelRunner parallel)
    {
        var body = new PackBody(For(count, k, n), null, offsets, false, b, scale, zeroPoint, n, 1);
        parallel.ForChunks(count, count, ref body);
        return _packed;
    }

    /// <summary>
    /// Packs batch i of the float tensor <paramref name="b"/> (<paramref name="length"/> values) quantized as above, with
    /// element (k, n) of batch i at offsets[i] + k x rowStride + n x colStride: a view whose rows or columns are
    /// contiguous (colStride 1 or rowStride 1), e.g. an attention's K or V heads within [b, s, h, d]. The tensor is
    /// quantized whole first, as one run (a head's rows, 32 values, are too short for the quantizer's vectors to pay:
    /// per row it was a fifth more quantizing in int8 BERT), and each batch packed from its view of the bytes.
    /// </summary>
    public QgemmPackedB[] PackQuantized(float* b, int length, int[] offsets, int count, int k, int n, int rowStride, int colStride, float scale, int zeroPoint, ParallelRunner parallel)
    {
        if (_quantized.Length < length) _quantized = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        byte* quantized = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_quantized));
        var quantize = new QuantizeBody(b, quantized, scale, zeroPoint);
        parallel.ForRange(length, 1 << 14, ref quantize);
        var body = new PackBody(For(count, k, n), quantized, offsets, false, null, 0, 0, rowStride, colStride);
        parallel.ForChunks(count, count, ref body);
        return _packed;
    }

    private QgemmPackedB[] For(int count, int k, int n)
    {
        var config = QgemmConfig.Current;
        if (_packed.Length != count || _packed[0].K != k || _packed[0].N != n)
        {
            _packed = new QgemmPackedB[count];
            for (int i = 0; i < count; i++) _packed[i] = QgemmPackedB.Create(config, k, n);
        }

        return _packed;
    }

    private readonly struct QuantizeBody(float* values, byte* quantized, float scale, int zeroPoint) : IRangeBody
    {
        public void Invoke(int start, int end) => Quantizer.Quantize(values + start, quantized + start, end - start, scale, zeroPoint, 0, 255);
    }

    private readonly struct PackBody(QgemmPackedB[] packed, byte* bytes, int[] offsets, bool signed, float* floats, float scale, int zeroPoint, int rowStride, int colStride) : IRangeBody
    {
        // Each thread's quantized copy of one float B matrix, grown on demand and kept.
        [ThreadStatic]
        private static byte[]? t_quantized;

        public void Invoke(int start, int end)
        {
            int k = packed[0].K, n = packed[0].N;
            byte* quantized = floats is null ? null : Scratch(k * n);
            for (int i = start; i < end; i++)
            {
                if (floats is null)
                {
                    packed[i].PackFrom(bytes + offsets[i], rowStride, colStride, signed);
                    continue;
                }

                Quantizer.Quantize(floats + offsets[i], quantized, k * n, scale, zeroPoint, 0, 255);
                packed[i].PackFrom(quantized, n, 1, signed: false);
            }
        }

        private static byte* Scratch(int size)
        {
            if (t_quantized is null || t_quantized.Length < size) t_quantized = GC.AllocateUninitializedArray<byte>(Math.Max(size, 1 << 14), pinned: true);
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_quantized));
        }
    }
}
