using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class DirectConv2D
{
    /// <summary>
    /// B packed into 48-column panels of valid columns only: column v of a batch is output position v % OutputSize of
    /// image v / OutputSize. A small output plane leaves much of its layout columns unused (a 7x7 plane takes 64, of
    /// which 49 are valid), so a batch of such images packs each depth block of its B rows, tap by tap, into panels
    /// laid out like <see cref="Tessera.Kernels.Linear.SgemmPackedB"/> blocks: depth block pc, panel t, row k at
    /// Panels + pc * PanelCount * 48 + t * kc * 48 + k * 48. The micro-kernels read them through offsets k * 48 and sum
    /// each output exactly as they do from the layouts, so a packed image has the bits it has unpacked.
    /// </summary>
    private readonly partial struct Job
    {
        private int K => Cg * G.KernelSize;

        private int Kc => Packed[0].Config.Kc;

        /// <summary>Floats of the panels of the call's largest batch, with a vector of slack for the last row's loads.</summary>
        public long PanelFloats => (long)K * PanelCount(_perBatch) * Tile.Nr + 16;

        private int PanelCount(int images) => (images * G.OutputSize + Tile.Nr - 1) / Tile.Nr;

        private int PanelCount(in Batch batch) => PanelCount(batch.Count);

        /// <summary>Packing work items of a batch: every (depth block, panel) pair.</summary>
        public int PanelItems(in Batch batch) => (K + Kc - 1) / Kc * PanelCount(batch);

        /// <summary>Packs the (depth block, panel) items [start, end): each writes only its own panel rows.</summary>
        public void Pack(in Batch batch, int start, int end)
        {
            int panels = PanelCount(batch), kc0 = Kc, k = K, nr = Tile.Nr;
            int outW = G.Output[1], size = G.OutputSize, pitch = Layout.RowPitch;
            int valid = batch.Count * size;
            long panelStride = (long)panels * nr;

            // A panel's columns as runs of one output row of one image: lane, source offset in the layouts, length.
            Span<long> runs = stackalloc long[3 * nr];
            for (int item = start; item < end; item++)
            {
                int pc = item / panels * kc0, t = item % panels;
                int kc = Math.Min(kc0, k - pc);
                int count = 0;
                for (int v = t * nr, v1 = Math.Min(valid, v + nr); v < v1;)
                {
                    int image = v / size, oh = v % size / outW, ow = v % size % outW;
                    int length = Math.Min(outW - ow, v1 - v);
                    runs[count * 3] = v - t * nr;
                    runs[count * 3 + 1] = image * LayoutFloats + (long)oh * pitch + ow;
                    runs[count * 3 + 2] = length;
                    count++;
                    v += length;
                }

                int used = Math.Min(nr, valid - t * nr);
                float* panel = batch.Panels + pc * panelStride + (long)t * kc * nr;
                for (int r = 0; r < kc; r++)
                {
                    float* row = panel + (long)r * nr;
                    float* source = batch.Layouts + Offsets[pc + r];
                    for (int i = 0; i < count; i++)
                    {
                        CopyRun(source + runs[i * 3 + 1], row + runs[i * 3], (int)runs[i * 3 + 2]);
                    }

                    // The last panel's unused lanes are computed and dropped: zeros keep them cheap (no denormals).
                    if (used < nr)
                    {
                        new Span<float>(row + used, nr - used).Clear();
                    }
                }
            }
        }

        /// <summary>dst[0, n) = src[0, n), touching nothing past the run (another thread may own it).</summary>
        private static void CopyRun(float* src, float* dst, int n)
        {
            if (!Avx512F.IsSupported)
            {
                // AVX2's masked stores are slow on some CPUs (microcoded on AMD's); the tail is under 8 floats.
                for (; n >= 8; n -= 8, src += 8, dst += 8)
                {
                    Vector256.Load(src).Store(dst);
                }

                for (int i = 0; i < n; i++)
                {
                    dst[i] = src[i];
                }

                return;
            }

            for (; n >= 16; n -= 16, src += 16, dst += 16)
            {
                Vector512.Load(src).Store(dst);
            }

            if (n > 0)
            {
                // The layouts end in a zeroed tail longer than a vector, so a full load past the run stays inside them.
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
                Avx512F.MaskStore(dst, mask, Vector512.Load(src));
            }
        }

        /// <summary>Slivers [s0, s1) against panel columns [c0, c1) (multiples of 48), finished into Y.</summary>
        private void ComputePanels(in Batch batch, int s0, int s1, int c0, int c1)
        {
            var a = batch.Packed;
            int kc0 = a.Config.Kc, k = a.K, mr = Tile.Mr, nr = Tile.Nr, chunk = Tile.ChunkColumns;
            int valid = batch.Count * G.OutputSize;
            long panelStride = (long)PanelCount(batch) * nr;
            int ld = Math.Min(chunk, c1 - c0);
            float* tiles = ConvScratch.Get(2, (long)(s1 - s0) * mr * ld);
            for (int cc = c0; cc < c1; cc += chunk)
            {
                int ce = Math.Min(c1, cc + chunk);
                for (int pc = 0; pc < k; pc += kc0)
                {
                    int kc = Math.Min(kc0, k - pc);
                    float* block = batch.Panels + pc * panelStride;
                    bool accumulate = pc > 0, last = pc + kc >= k;
                    for (int s = s0; s < s1; s++)
                    {
                        float* sliver = a.Block(s * mr, pc);
                        float* cRow = tiles + (long)(s - s0) * mr * ld - cc;
                        for (int j = cc; j < ce; j += nr)
                        {
                            if (j + nr <= valid)
                            {
                                Tile.RunWide(sliver, block + (long)j * kc, _panelOffsets, kc, cRow + j, ld, accumulate);
                            }
                            else
                            {
                                // The last panel's valid columns only, in narrower tiles (rows stay nr apart).
                                int width = (valid - j + Tile.Narrow - 1) / Tile.Narrow * Tile.Narrow;
                                Tile.Sweep(sliver, block + (long)j * kc, _panelOffsets, kc, cRow + j, ld, accumulate, width);
                            }
                        }

                        if (last)
                        {
                            // Finished sliver by sliver while its tile rows are still in L1.
                            FinishPanels(batch, cRow, ld, s * mr, Math.Min(s * mr + mr, Rows), cc, ce);
                        }
                    }
                }
            }

            GC.KeepAlive(a);
        }

        /// <summary>Output channels [r0, r1) of panel columns [cc, ce): each image's share is one contiguous run of its planes.</summary>
        private void FinishPanels(in Batch batch, float* chunk, int ld, int r0, int r1, int cc, int ce)
        {
            int size = G.OutputSize;
            int end = Math.Min(ce, batch.Count * size);
            for (int v = cc; v < end;)
            {
                int b = v / size, at = v % size;
                int n = Math.Min(end - v, size - at);
                var item = Item(batch, b);
                for (int r = r0; r < r1; r++)
                {
                    float* dst = item.Y + (long)r * size + at;
                    Store(chunk + (long)(r - r0) * ld + v, item.Bias == null ? null : item.Bias + r,
                        item.Sum == null ? null : item.Sum + (long)r * size + at, dst, n, _reluInStore);
                    if (ActivationPerChunk && !_reluInStore)
                    {
                        Activation.Apply(new Span<float>(dst, n));
                    }
                }

                v += n;
            }
        }
    }
}
