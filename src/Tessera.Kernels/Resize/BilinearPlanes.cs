using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Resize;

/// <summary>
/// Fast float32 bilinear resize over the last two axes of [planes, H, W]. Each needed input row is resampled
/// horizontally once into a row buffer (cached, since consecutive output rows share source rows), and each output
/// row is a SIMD blend of two such buffers. Work is split over (plane, output row) ranges.
/// </summary>
internal static unsafe class BilinearPlanes
{
    private const int ParallelElements = 1 << 14;

    public static void Run(Tensor input, Tensor output, AxisTaps rowTaps, BilinearColumns columns, ParallelRunner parallel)
    {
        int outW = columns.X0.Length;
        int total = output.Length / outW;
        var body = new Body(input, output, rowTaps, columns);
        if ((long)output.Length < ParallelElements || parallel.Degree == 1)
        {
            body.Invoke(0, total);
        }
        else
        {
            parallel.ForRange(total, Math.Max(1, ParallelElements / outW), ref body);
        }
    }

    private readonly struct Body(Tensor input, Tensor output, AxisTaps rowTaps, BilinearColumns columns) : IRangeBody
    {
        // Row buffers up to this many floats live on the stack; wider ones come from the shared pool.
        private const int StackFloats = 4096;

        public void Invoke(int start, int end)
        {
            int outW = columns.X0.Length;
            float[]? rented = 2 * outW > StackFloats ? ArrayPool<float>.Shared.Rent(2 * outW) : null;
            Span<float> buffers = rented ?? stackalloc float[2 * outW];
            fixed (float* buffer = buffers)
            {
                Rows(buffer, start, end);
            }

            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }

            // The raw pointers do not keep the tensors' storage alive on their own.
            GC.KeepAlive(input);
            GC.KeepAlive(output);
        }

        private void Rows(float* buffer, int start, int end)
        {
            int inH = rowTaps.InSize, outH = rowTaps.OutSize, outW = columns.X0.Length;
            float* dst = (float*)output.Pointer;
            long tag0 = -1, tag1 = -1;
            float* slot0 = buffer, slot1 = buffer + outW;
            for (int r = start; r < end; r++)
            {
                int plane = r / outH;
                int oh = r - plane * outH;
                long a = (long)plane * inH + rowTaps.Index[2 * oh];
                long b = (long)plane * inH + rowTaps.Index[2 * oh + 1];
                float wb = (float)rowTaps.Weight[2 * oh + 1];
                float* rowA = Row(a, b, ref tag0, ref tag1, slot0, slot1);
                float* target = dst + (long)r * outW;
                if (a == b || wb == 0)
                {
                    Buffer.MemoryCopy(rowA, target, outW * sizeof(float), outW * sizeof(float));
                    continue;
                }

                float* rowB = Row(b, a, ref tag0, ref tag1, slot0, slot1);
                Blend(rowA, rowB, wb, target, outW);
            }
        }

        private float* Row(long wanted, long keep, ref long t0, ref long t1, float* s0, float* s1)
        {
            if (t0 == wanted)
            {
                return s0;
            }

            if (t1 == wanted)
            {
                return s1;
            }

            // Overwrite the slot that does not hold the other row this output row needs.
            bool useFirst = t0 != keep;
            float* slot = useFirst ? s0 : s1;
            if (useFirst)
            {
                t0 = wanted;
            }
            else
            {
                t1 = wanted;
            }

            Horizontal((float*)input.Pointer + wanted * columns.InSize, columns.X0, columns.X1, columns.W0, columns.W1, slot);
            return slot;
        }
    }

    /// <summary>target[i] = row[x0[i]] * wx0[i] + row[x1[i]] * wx1[i].</summary>
    internal static void Horizontal(float* row, int[] x0, int[] x1, float[] wx0, float[] wx1, float* target)
    {
        int width = x0.Length;
        int i = 0;
        fixed (int* i0 = x0, i1 = x1)
        fixed (float* w0 = wx0, w1 = wx1)
        {
            if (Avx2.IsSupported)
            {
                for (; i + 8 <= width; i += 8)
                {
                    var left = Avx2.GatherVector256(row, Avx.LoadVector256(i0 + i), 4);
                    var right = Avx2.GatherVector256(row, Avx.LoadVector256(i1 + i), 4);
                    var sum = Avx.Multiply(left, Avx.LoadVector256(w0 + i)) + Avx.Multiply(right, Avx.LoadVector256(w1 + i));
                    Avx.Store(target + i, sum);
                }
            }

            for (; i < width; i++)
            {
                target[i] = row[i0[i]] * w0[i] + row[i1[i]] * w1[i];
            }
        }
    }

    /// <summary>target = a + (b - a) * weight, the vertical blend of two resampled rows.</summary>
    internal static void Blend(float* a, float* b, float weight, float* target, int width)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256.Create(weight);
            for (; i + 8 <= width; i += 8)
            {
                var va = Vector256.Load(a + i);
                Vector256.Store(va + (Vector256.Load(b + i) - va) * w, target + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var w = Vector128.Create(weight);
            for (; i + 4 <= width; i += 4)
            {
                var va = Vector128.Load(a + i);
                Vector128.Store(va + (Vector128.Load(b + i) - va) * w, target + i);
            }
        }

        for (; i < width; i++)
        {
            target[i] = a[i] + (b[i] - a[i]) * weight;
        }
    }
}
