using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Fused;
using Tessera.Kernels.Linear;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class DirectConv2D
{
    /// <summary>Everything about one call that the parallel bodies share (read only).</summary>
    private readonly partial struct Job(float* x, float* bias, float* sum, float* y, SgemmPackedA[] packed, DirectConvTile tile, int c,
        int m, int group, ConvGeometry g, PhaseLayout layout, int* offsets, FusedActivation activation, int n, int perBatch, int* panelOffsets)
    {
        public readonly DirectConvTile Tile = tile;
        public readonly ConvGeometry G = g;
        public readonly PhaseLayout Layout = layout;
        public readonly int* Offsets = offsets;
        public readonly FusedActivation Activation = activation;
        public readonly SgemmPackedA[] Packed = packed;
        public readonly int Cg = c / group;
        public readonly int Rows = m / group;
        public readonly int Slivers = (m / group + tile.Mr - 1) / tile.Mr;

        /// <summary>Floats between the layouts of a batch's images: whole cache lines, so each starts as aligned as the first.</summary>
        public readonly long LayoutFloats = (layout.Floats(c / group) + 15) / 16 * 16;

        private readonly int _batchesPerGroup = (n + perBatch - 1) / perBatch;
        private readonly int _perBatch = perBatch;

        /// <summary>Row offsets k * 48 of a B panel, or null when the call reads B from the layouts directly.</summary>
        private readonly int* _panelOffsets = panelOffsets;

        /// <summary>
        /// Whether the activation may run on each chunk's piece of a plane: true when it computes every element with
        /// correctly rounded operations only, so the pieces (which depend on the thread split) cannot change its bits.
        /// Transcendental activations take other code paths on short runs, so they run on whole planes at the end.
        /// </summary>
        public readonly bool ActivationPerChunk = activation.IsExactPerElement;

        // Relu is applied as the tile is stored (the same IEEE maximum with +0 as the activation's), saving a pass over Y.
        private readonly bool _reluInStore = activation.Kind == ActivationKind.Relu;

        /// <summary>Batches of the call: each group's images, <c>perBatch</c> at a time.</summary>
        public int Batches => group * _batchesPerGroup;

        /// <summary>Floats of the layouts of one batch.</summary>
        public long BatchLayoutFloats => LayoutFloats * _perBatch;

        /// <summary>Batch <paramref name="index"/>; <paramref name="panels"/> is the buffer for its B panels when the call packs them.</summary>
        public Batch Batch(int index, float* layouts, float* panels)
        {
            int gi = index / _batchesPerGroup, first = index % _batchesPerGroup * _perBatch;
            return new Batch(first, Math.Min(_perBatch, n - first), gi, Packed[gi], layouts, _panelOffsets == null ? null : panels);
        }

        /// <summary>Image b (counted from the batch's first) of the batch's group.</summary>
        private Item Item(in Batch batch, int b)
        {
            int image = batch.First + b, gi = batch.Group;
            long yOffset = ((long)image * m + (long)gi * Rows) * G.OutputSize;
            return new Item(
                x + ((long)image * c + (long)gi * Cg) * G.InputSize,
                y + yOffset,
                sum == null ? null : sum + yOffset,
                bias == null ? null : bias + (long)gi * Rows,
                batch.Layouts + b * LayoutFloats);
        }

        /// <summary>Writes the layouts of channels [start, end), counted image after image through the batch.</summary>
        public void Fill(in Batch batch, int start, int end)
        {
            for (int at = start; at < end;)
            {
                int b = at / Cg, c0 = at % Cg, c1 = Math.Min(Cg, c0 + (end - at));
                var item = Item(batch, b);
                Layout.Fill(item.X, c0, c1, Cg, item.Layout, G);
                at += c1 - c0;
            }
        }

        /// <summary>
        /// Slivers [s0, s1) against columns [c0, c1) (multiples of 16) of the batch's column space, where image b's
        /// column j is column b * PaddedColumns + j, finished into Y. Each sliver's depth block runs over every image
        /// of a chunk while it is in L1; an output's sum runs over the same depth blocks in the same order whatever the
        /// batch, so its bits do not depend on which images share it.
        /// </summary>
        public void Compute(in Batch batch, int s0, int s1, int c0, int c1)
        {
            if (batch.Panels != null)
            {
                ComputePanels(batch, s0, s1, c0, c1);
                return;
            }

            var a = batch.Packed;
            int kc0 = a.Config.Kc, k = a.K, p = Layout.PaddedColumns, mr = Tile.Mr, chunk = Tile.ChunkColumns;
            int ld = Math.Min(chunk, c1 - c0);
            float* tiles = ConvScratch.Get(2, (long)(s1 - s0) * mr * ld);
            for (int cc = c0; cc < c1; cc += chunk)
            {
                int ce = Math.Min(c1, cc + chunk);
                int b0 = cc / p, b1 = (ce - 1) / p;
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    int* offsets = Offsets + pc;
                    bool accumulate = pc > 0, last = pc + kc >= k;
                    for (int s = s0; s < s1; s++)
                    {
                        float* sliver = a.Block(s * mr, pc);
                        float* sliverTile = tiles + (long)(s - s0) * mr * ld;
                        for (int b = b0; b <= b1; b++)
                        {
                            // Tile rows are indexed by batch column: column j of image b, row r is at
                            // tiles[(r - s0 * mr) * ld + b * p + j - cc].
                            float* cRow = sliverTile + ((long)b * p - cc);
                            float* x = batch.Layouts + b * LayoutFloats;
                            int j = Math.Max(cc - b * p, 0), je = Math.Min(ce - b * p, p);
                            Tile.Sweep(sliver, x + j, offsets, kc, cRow + j, ld, accumulate, je - j);
                        }

                        if (last)
                        {
                            // Finished sliver by sliver while its tile rows are still in L1.
                            for (int b = b0; b <= b1; b++)
                            {
                                int j0 = Math.Max(cc - b * p, 0), j1 = Math.Min(ce - b * p, p);
                                Finish(Item(batch, b), sliverTile + ((long)b * p - cc), ld, s * mr, Math.Min(s * mr + mr, Rows), j0, j1);
                            }
                        }
                    }
                }
            }

            GC.KeepAlive(a);
        }

        /// <summary>Columns of the batch's column space: its panels' or its images' padded columns.</summary>
        public int Columns(in Batch batch) => batch.Panels != null ? PanelCount(batch) * Tile.Nr : batch.Count * Layout.PaddedColumns;

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
                if (pitch == outW)
                {
                    // No garbage columns between output rows (a 1x1 stride-2 downsample): column j is position j, and
                    // the chunk is one run, which leaves one partial vector instead of one per output row.
                    Store(src + y0, item.Bias == null ? null : item.Bias + r, sum == null ? null : sum + y0, dst + y0, y1 - y0, _reluInStore);
                }
                else
                {
                    for (int oh = oh0; oh <= oh1; oh++)
                    {
                        int rowStart = oh * pitch;
                        int j0 = Math.Max(cc, rowStart), j1 = Math.Min(ce, rowStart + outW);
                        if (j0 < j1)
                        {
                            long at = (long)oh * outW + (j0 - rowStart);
                            Store(src + j0, item.Bias == null ? null : item.Bias + r, sum == null ? null : sum + at, dst + at, j1 - j0, _reluInStore);
                        }
                    }
                }

                if (ActivationPerChunk && !_reluInStore)
                {
                    Activation.Apply(new Span<float>(dst + y0, y1 - y0));
                }
            }
        }

        /// <summary>dst = src (+ *bias) (+ sum), in that order, then max(., +0) when <paramref name="relu"/>, as one pass (the runs are short).</summary>
        /// <remarks>
        /// Plain stores measured as fast as the alternatives tried at batch 8 (one thread, thread CPU time of the Conv alone,
        /// alternated in one process, load 22-32): non-temporal stores with an aligned body (the stem's 25.7 MB Y 0.97-1.01,
        /// a 56x56 layer 0.98), Y prefetched one sliver ahead (0.97-0.99) and an overlapping last vector instead of
        /// the masked tail (0.96-1.03); within this VM's noise, so none was taken.
        /// </remarks>
        private static void Store(float* src, float* bias, float* sum, float* dst, int n, bool relu)
        {
            if (bias == null && sum == null && !relu)
            {
                new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));
                return;
            }

            float b = bias == null ? 0f : *bias;
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vb = Vector512.Create(b);
                for (; i + 16 <= n; i += 16)
                {
                    var v = Vector512.Load(src + i);
                    v = bias != null ? v + vb : v;
                    v = sum != null ? v + Vector512.Load(sum + i) : v;
                    (relu ? Vector512.Max(v, Vector512<float>.Zero) : v).Store(dst + i);
                }

                if (i < n)
                {
                    // The rest of a run (an output row is rarely a multiple of 16) as one masked vector: AVX-512's
                    // masked loads and stores touch no memory outside the mask.
                    var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n - i)).AsSingle();
                    var v = Avx512F.MaskLoad(src + i, mask, Vector512<float>.Zero);
                    v = bias != null ? v + vb : v;
                    v = sum != null ? v + Avx512F.MaskLoad(sum + i, mask, Vector512<float>.Zero) : v;
                    Avx512F.MaskStore(dst + i, mask, relu ? Vector512.Max(v, Vector512<float>.Zero) : v);
                    return;
                }
            }
            else
            {
                var vb = Vector256.Create(b);
                for (; i + 8 <= n; i += 8)
                {
                    var v = Vector256.Load(src + i);
                    v = bias != null ? v + vb : v;
                    v = sum != null ? v + Vector256.Load(sum + i) : v;
                    (relu ? Vector256.Max(v, Vector256<float>.Zero) : v).Store(dst + i);
                }
            }

            for (; i < n; i++)
            {
                float v = src[i];
                if (bias != null)
                {
                    v += b;
                }

                if (sum != null)
                {
                    v += sum[i];
                }

                dst[i] = relu ? MathF.Max(v, 0f) : v;
            }
        }

        /// <summary>The position in the output plane of the first valid column at or after column j of the implicit B.</summary>
        private int PlanePosition(int j)
        {
            int outW = G.Output[1], pitch = Layout.RowPitch;
            return Math.Min(j / pitch, G.Output[0]) * outW + (j / pitch < G.Output[0] ? Math.Min(j % pitch, outW) : 0);
        }

        /// <summary>The activation over whole output planes [start, end), counted image after image through the batch.</summary>
        public void ActivatePlanes(in Batch batch, int start, int end)
        {
            int size = G.OutputSize;
            for (int plane = start; plane < end; plane++)
            {
                var item = Item(batch, plane / Rows);
                Activation.Apply(new Span<float>(item.Y + (long)(plane % Rows) * size, size));
            }
        }

        /// <summary>Batch <paramref name="index"/> on the calling thread alone, in its own layout buffer.</summary>
        public void Sequential(int index)
        {
            var batch = Batch(index, ConvScratch.Get(1, BatchLayoutFloats), _panelOffsets == null ? null : ConvScratch.Get(3, PanelFloats));
            Fill(batch, 0, batch.Count * Cg);
            if (batch.Panels != null)
            {
                Pack(batch, 0, PanelItems(batch));
            }

            Compute(batch, 0, Slivers, 0, Columns(batch));
            if (!ActivationPerChunk)
            {
                ActivatePlanes(batch, 0, batch.Count * Rows);
            }
        }
    }
}
