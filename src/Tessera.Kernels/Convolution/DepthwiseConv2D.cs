using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Tessera.Kernels.Core;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one filter per channel). Each plane is rearranged into a zero-bordered
/// <see cref="PhaseLayout"/>, where every tap of every output row is a unit-stride run for any stride, so outputs are
/// computed four vectors of columns at a time with all taps accumulated in registers (one pass over the output).
/// Planes are split across threads; bias, the residual sum and a fused activation are applied to each finished plane.
/// </summary>
internal static unsafe class DepthwiseConv2D
{
    // Tap offsets live on the stack up to this many taps (real depthwise kernels have 9 to 49).
    private const int StackTaps = 1024;

    public static void Run(float* x, float* w, float* bias, float* sum, float* y, int planes, int channels, ConvGeometry g,
        FusedActivation activation, ParallelRunner parallel)
    {
        long work = (long)planes * g.OutputSize * g.KernelSize;
        var runner = work < 1 << 15 ? ParallelRunner.Sequential : parallel;
        var body = new Body(x, w, bias, sum, y, channels, g, new PhaseLayout(g), activation);
        runner.ForRange(planes, 1, ref body);
    }

    private readonly struct Body(float* x, float* w, float* bias, float* sum, float* y, int channels, ConvGeometry g, PhaseLayout layout,
        FusedActivation activation) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            Span<int> offsets = g.KernelSize <= StackTaps ? stackalloc int[g.KernelSize] : new int[g.KernelSize];
            layout.Offsets(1, g, offsets);
            float* padded = ConvScratch.Get(0, layout.Floats(1));
            for (int p = start; p < end; p++)
            {
                int c = p % channels;
                float* plane = y + (long)p * g.OutputSize;
                layout.Fill(x + (long)p * g.InputSize, 0, 1, 1, padded, g);
                fixed (int* offs = offsets)
                {
                    Plane(padded, offs, w + (long)c * g.KernelSize, bias is null ? 0f : bias[c], plane);
                }

                var output = new Span<float>(plane, g.OutputSize);
                if (sum != null)
                {
                    TensorPrimitives.Add(output, new ReadOnlySpan<float>(sum + (long)p * g.OutputSize, g.OutputSize), output);
                }

                activation.Apply(output);
            }
        }

        private void Plane(float* src, int* offsets, float* w, float b, float* dst)
        {
            if (!Vector512.IsHardwareAccelerated)
            {
                Plane256(src, offsets, w, b, dst);
                return;
            }

            int outH = g.Output[0], outW = g.Output[1], taps = g.KernelSize, pitch = layout.RowPitch;
            var bias512 = Vector512.Create(b);
            for (int oh = 0; oh < outH; oh++, dst += outW)
            {
                float* row = src + (long)oh * pitch;
                int ow = 0;
                for (; ow + 64 <= outW; ow += 64)
                {
                    var a0 = bias512; var a1 = bias512; var a2 = bias512; var a3 = bias512;
                    float* s = row + ow;
                    for (int t = 0; t < taps; t++)
                    {
                        float* q = s + offsets[t];
                        var wt = Vector512.Create(w[t]);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(q), wt, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 16), wt, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 32), wt, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 48), wt, a3);
                    }

                    a0.Store(dst + ow);
                    a1.Store(dst + ow + 16);
                    a2.Store(dst + ow + 32);
                    a3.Store(dst + ow + 48);
                }

                for (; ow + 16 <= outW; ow += 16)
                {
                    var a0 = bias512;
                    float* s = row + ow;
                    for (int t = 0; t < taps; t++)
                    {
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(s + offsets[t]), Vector512.Create(w[t]), a0);
                    }

                    a0.Store(dst + ow);
                }

                for (; ow + 8 <= outW; ow += 8)
                {
                    var a0 = Vector256.Create(b);
                    float* s = row + ow;
                    for (int t = 0; t < taps; t++)
                    {
                        a0 = Vector256.FusedMultiplyAdd(Vector256.Load(s + offsets[t]), Vector256.Create(w[t]), a0);
                    }

                    a0.Store(dst + ow);
                }

                Tail(row, offsets, w, b, dst, ow, outW);
            }
        }

        /// <summary>
        /// <see cref="Plane"/> without AVX-512: four 8-column vectors at a time (four loads and FMAs per broadcast
        /// weight), then one; Vector256 is emulated on the Vector128 tier, correct but slower.
        /// </summary>
        private void Plane256(float* src, int* offsets, float* w, float b, float* dst)
        {
            int outH = g.Output[0], outW = g.Output[1], taps = g.KernelSize, pitch = layout.RowPitch;
            var bias256 = Vector256.Create(b);
            for (int oh = 0; oh < outH; oh++, dst += outW)
            {
                float* row = src + (long)oh * pitch;
                int ow = 0;
                for (; ow + 32 <= outW; ow += 32)
                {
                    var a0 = bias256; var a1 = bias256; var a2 = bias256; var a3 = bias256;
                    float* s = row + ow;
                    for (int t = 0; t < taps; t++)
                    {
                        float* q = s + offsets[t];
                        var wt = Vector256.Create(w[t]);
                        a0 = Vector256.MultiplyAddEstimate(Vector256.Load(q), wt, a0);
                        a1 = Vector256.MultiplyAddEstimate(Vector256.Load(q + 8), wt, a1);
                        a2 = Vector256.MultiplyAddEstimate(Vector256.Load(q + 16), wt, a2);
                        a3 = Vector256.MultiplyAddEstimate(Vector256.Load(q + 24), wt, a3);
                    }

                    a0.Store(dst + ow);
                    a1.Store(dst + ow + 8);
                    a2.Store(dst + ow + 16);
                    a3.Store(dst + ow + 24);
                }

                for (; ow + 8 <= outW; ow += 8)
                {
                    var a0 = bias256;
                    float* s = row + ow;
                    for (int t = 0; t < taps; t++)
                    {
                        a0 = Vector256.MultiplyAddEstimate(Vector256.Load(s + offsets[t]), Vector256.Create(w[t]), a0);
                    }

                    a0.Store(dst + ow);
                }

                Tail(row, offsets, w, b, dst, ow, outW);
            }
        }

        /// <summary>
        /// Columns [ow, outW) of one output row, one at a time, with the vector loops' multiply-add (fused where the
        /// hardware fuses; software FMA would be many times slower on the Vector128 tier).
        /// </summary>
        private void Tail(float* row, int* offsets, float* w, float b, float* dst, int ow, int outW)
        {
            int taps = g.KernelSize;
            for (; ow < outW; ow++)
            {
                float acc = b;
                float* s = row + ow;
                for (int t = 0; t < taps; t++)
                {
                    acc = float.MultiplyAddEstimate(s[offsets[t]], w[t], acc);
                }

                dst[ow] = acc;
            }
        }
    }
}
