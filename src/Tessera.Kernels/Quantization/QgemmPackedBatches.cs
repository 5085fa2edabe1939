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

    /// <summary>Packs batch i of the uint8/int8 B, the row-major K x N matrix <paramref name="offsets"/>[i] bytes on.</summary>
    public QgemmPackedB[] Pack(byte* b, int[] offsets, int count, int k, int n, bool signed, ParallelRunner parallel)
    {
        var body = new PackBody(For(count, k, n), b, offsets, signed, null, 0, 0);
        parallel.ForChunks(count, count, ref body);
        return _packed;
    }

    /// <summary>Packs batch i of float B quantized to uint8 with <paramref name="scale"/> and <paramref name="zeroPoint"/>, as DynamicQuantizeLinear would.</summary>
    public QgemmPackedB[] PackQuantized(float* b, int[] offsets, int count, int k, int n, float scale, int zeroPoint, ParallelRunner parallel)
    {
        var body = new PackBody(For(count, k, n), null, offsets, false, b, scale, zeroPoint);
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

    private readonly struct PackBody(QgemmPackedB[] packed, byte* bytes, int[] offsets, bool signed, float* floats, float scale, int zeroPoint) : IRangeBody
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
                    packed[i].PackFrom(bytes + offsets[i], n, 1, signed);
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
