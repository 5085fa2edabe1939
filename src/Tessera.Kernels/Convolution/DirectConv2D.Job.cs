using System.Runtime.Intrinsics;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class DirectConv2D
{
    /// <summary>Everything about one call that the parallel bodies share (read only).</summary>
    private readonly struct Job(float* x, float* bias, float* sum, float* y, SgemmPackedA[] packed, int c, int m, int group, ConvGeometry g,
        PhaseLayout layout, int* offsets, FusedActivation activation)
    {
        public readonly ConvGeometry G = g;
        public readonly PhaseLayout Layout = layout;
        public readonly int* Offsets = offsets;
        public readonly FusedActivation Activation = activation;
        public readonly SgemmPackedA[] Packed = packed;
        public readonly int Cg = c / group;
        public readonly int Rows = m / group;
        public readonly int Slivers = (m / group + Mr - 1) / Mr;

        /// <summary>
        /// Whether the activation may run on each chunk's piece of a plane: true when it computes every element with
        /// correctly rounded operations only, so the pieces (which depend on the thread split) cannot change its bits.
        /// Transcendental activations take other code paths on short runs, so they run on whole planes at the end.
        /// </summary>
        public readonly bool ActivationPerChunk = activation.IsExactPerElement;

        public Item Item(int index, float* layoutBuffer)
        {
            int image = index / group, gi = index % group;
            long yOffset = ((long)image * m + (long)gi * Rows) * G.OutputSize;
            return new Item(
                x + ((long)image * c + (long)gi * Cg) * G.InputSize,
                y + yOffset,
                sum == null ? null : sum + yOffset,
                bias == null ? null : bias + (long)gi * Rows,
                Packed[gi],
                layoutBuffer);
        }

        /// <summary>Slivers [s0, s1) against columns [c0, c1) (multiples of 16) of the implicit B, finished into Y.</summary>
        public void Compute(in Item item, int s0, int s1, int c0, int c1)
        {
            var a = item.Packed;
            int kc0 = a.Config.Kc, k = a.K;
            int ld = Math.Min(ChunkColumns, c1 - c0);
            int r0 = s0 * Mr, r1 = Math.Min(s1 * Mr, Rows);
            float* tiles = ConvScratch.Get(2, (long)(s1 - s0) * Mr * ld);
            for (int cc = c0; cc < c1; cc += ChunkColumns)
            {
                int ce = Math.Min(c1, cc + ChunkColumns);

                // Tile rows are indexed by absolute column: column j of row r is at chunk[(r - r0) * ld + j].
                float* chunk = tiles - cc;
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    int* offsets = Offsets + pc;
                    bool accumulate = pc > 0;
                    for (int s = s0; s < s1; s++)
                    {
                        float* sliver = a.Block(s * Mr, pc);
                        float* cRow = chunk + (long)(s - s0) * Mr * ld;
                        int j = cc;
                        for (; j + Nr <= ce; j += Nr)
                        {
                            DirectConvMicroKernel.Run3(sliver, item.Layout + j, offsets, kc, cRow + j, ld, accumulate);
                        }

                        for (; j < ce; j += 16)
                        {
                            DirectConvMicroKernel.Run1(sliver, item.Layout + j, offsets, kc, cRow + j, ld, accumulate);
                        }
                    }
                }

                Finish(item, chunk, ld, r0, r1, cc, ce);
            }

            GC.KeepAlive(a);
        }

        /// <summary>
        /// Output channels [r0, r1) of columns [cc, ce): the valid columns go to Y plus bias and sum, then (when exact per
        /// element) the activation runs over the part of Y they cover, which is contiguous.
        /// </summary>
        private void Finish(in Item item, float* chunk, int ld, int r0, int r1, int cc, int ce)
        {
            int outW = G.Output[1], pitch = Layout.RowPitch, size = G.OutputSize;
            int y0 = PlanePosition(cc), y1 = Math.Min(size, PlanePosition(ce));
            if (y0 >= y1)
            {
                return;
            }

            int oh0 = cc / pitch, oh1 = Math.Min(G.Output[0] - 1, (ce - 1) / pitch);
            for (int r = r0; r < r1; r++)
            {
                float* src = chunk + (long)(r - r0) * ld;
                float* dst = item.Y + (long)r * size;
                float* sum = item.Sum == null ? null : item.Sum + (long)r * size;
                for (int oh = oh0; oh <= oh1; oh++)
                {
                    int rowStart = oh * pitch;
                    int j0 = Math.Max(cc, rowStart), j1 = Math.Min(ce, rowStart + outW);
                    if (j0 < j1)
                    {
                        long at = (long)oh * outW + (j0 - rowStart);
                        Store(src + j0, item.Bias == null ? null : item.Bias + r, sum == null ? null : sum + at, dst + at, j1 - j0);
                    }
                }

                if (ActivationPerChunk)
                {
                    Activation.Apply(new Span<float>(dst + y0, y1 - y0));
                }
            }
        }

        /// <summary>dst = src (+ *bias) (+ sum), in that order, as one pass (the runs are short: one output row of a chunk).</summary>
        private static void Store(float* src, float* bias, float* sum, float* dst, int n)
        {
            if (bias == null && sum == null)
            {
                new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));
                return;
            }

            float b = bias == null ? 0f : *bias;
            var vb = Vector512.Create(b);
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(src + i);
                if (bias != null)
                {
                    v += vb;
                }

                if (sum != null)
                {
                    v += Vector512.Load(sum + i);
                }

                v.Store(dst + i);
            }

            for (; i < n; i++)
            {
                float v = src[i];
                if (bias != null)
                {
                    v += b;
                }

                dst[i] = sum == null ? v : v + sum[i];
            }
        }

        /// <summary>The position in the output plane of the first valid column at or after column j of the implicit B.</summary>
        private int PlanePosition(int j)
        {
            int outW = G.Output[1], pitch = Layout.RowPitch;
            return Math.Min(j / pitch, G.Output[0]) * outW + (j / pitch < G.Output[0] ? Math.Min(j % pitch, outW) : 0);
        }

        /// <summary>The activation over whole planes of output channels [r0, r1), for activations not applied per chunk.</summary>
        public void ActivatePlanes(in Item item, int r0, int r1)
        {
            int size = G.OutputSize;
            for (int r = r0; r < r1; r++)
            {
                Activation.Apply(new Span<float>(item.Y + (long)r * size, size));
            }
        }

        public void Sequential(int index)
        {
            var item = Item(index, ConvScratch.Get(1, Layout.Floats(Cg)));
            Layout.Fill(item.X, 0, Cg, Cg, item.Layout, G);
            Compute(item, 0, Slivers, 0, Layout.PaddedColumns);
            if (!ActivationPerChunk)
            {
                ActivatePlanes(item, 0, Rows);
            }
        }
    }
}
