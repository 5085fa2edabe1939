using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class ChannelBlockedConv
{
    /// <summary>One group's batch of images [First, First + Count): what the parallel bodies share (read only).</summary>
    private readonly struct Job(float* x, float* bias, float* sum, float* y, float* weights, float* layouts, int* offsets, int* columns,
        InterleavedLayout interleaved, ConvGeometry g, FusedActivation activation, int c, int m, int group, int gi, int first,
        int count, int depth)
    {
        public readonly int Count = count;

        /// <summary>Output channels per group.</summary>
        public readonly int Rows = m / group;

        /// <summary>
        /// Whether the activation may run on each chunk's piece of a plane: true when it computes every element with
        /// correctly rounded operations only, so the pieces cannot change its bits; others run on whole planes at the end.
        /// </summary>
        public readonly bool ActivationPerChunk = activation.IsExactPerElement;

        // Relu is applied as the tile is stored (the same IEEE maximum with +0 as the activation's), saving a pass over Y.
        private readonly bool _reluInStore = activation.Kind == ActivationKind.Relu;

        private readonly int _pixels = count * g.OutputSize;

        private int Chunks => (_pixels + ChunkPixels - 1) / ChunkPixels;

        /// <summary>Work items: every (channel block, pixel chunk) pair, chunk-minor so a thread's items share weights.</summary>
        public int Items => Rows / Block * Chunks;

        /// <summary>Writes the interleaved layouts' channel blocks [start, end), counted image after image through the batch.</summary>
        public void Fill(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                int b = i / interleaved.Blocks;
                FillBlock(b, i % interleaved.Blocks, layouts + b * interleaved.Floats);
            }
        }

        private void FillBlock(int b, int cb, float* layout)
        {
            int cg = c / group;
            float* image = x + ((long)(first + b) * c + (long)gi * cg) * g.InputSize;
            interleaved.Fill(image, cb, layout, g);
        }

        /// <summary>Item i: its block's 64 channels for its chunk's pixels (columns from the batch's first pixel on).</summary>
        public void Compute(int item)
        {
            int block = item / Chunks, v0 = item % Chunks * ChunkPixels;
            ComputeChunk(block, v0, Math.Min(_pixels, v0 + ChunkPixels), layouts, columns + v0);
        }

        /// <summary>
        /// Image b (of the batch) alone on this thread: its layout filled into the thread's scratch, then every block's
        /// chunks of its pixels, whose columns are those of the batch's first image.
        /// </summary>
        public void RunImage(int b)
        {
            float* layout = ConvScratch.Get(1, interleaved.Floats);
            for (int cb = 0; cb < interleaved.Blocks; cb++)
            {
                FillBlock(b, cb, layout);
            }

            int size = g.OutputSize, start = b * size;
            for (int block = 0; block < Rows / Block; block++)
            {
                for (int v0 = start; v0 < start + size; v0 += ChunkPixels)
                {
                    ComputeChunk(block, v0, Math.Min(start + size, v0 + ChunkPixels), layout, columns + (v0 - start));
                }
            }

            if (!ActivationPerChunk)
            {
                ActivatePlanes(b * Rows, (b + 1) * Rows);
            }
        }

        /// <summary>
        /// Channels [64 block, + 64) of the batch's pixels [v0, v1) (cols[v - v0]: pixel v's column in layout), depth
        /// block by depth block into a tile matrix, then finished into Y.
        /// </summary>
        private void ComputeChunk(int block, int v0, int v1, float* layout, int* cols)
        {
            float* w = weights + (long)(gi * (Rows / Block) + block) * depth * Block;
            float* tiles = ConvScratch.Get(2, ChunkPixels * Block);

            // The last tile of a chunk may be short: its missing pixels repeat its first (computed, never stored).
            int* tail = stackalloc int[Tile];
            for (int pc = 0; pc < depth; pc += Kc)
            {
                int kc = Math.Min(Kc, depth - pc);
                for (int v = v0; v < v1; v += Tile)
                {
                    int* at = cols + (v - v0);
                    if (v + Tile > v1)
                    {
                        for (int p = 0; p < Tile; p++)
                        {
                            tail[p] = at[v + p < v1 ? p : 0];
                        }

                        at = tail;
                    }

                    ChannelBlockMicroKernel.Run(w + (long)pc * Block, layout, at, offsets + pc, kc, tiles + (long)(v - v0) * Block, pc > 0);
                }
            }

            Finish(tiles, v0, v1, block * Block);
        }

        /// <summary>
        /// Tile rows (pixels) [v0, v1) of channels [r0, r0 + 64) into Y: 16 pixels x 16 channels at a time, transposed so
        /// each channel's pixels are one vector, stored with bias, sum and activation. (Working out the pixels' image runs
        /// once per 16 pixels instead of once per channel measured 0.97-1.01 at batch 8 on 28x28, 14x14 and 7x7 planes:
        /// the finish waits on memory, not on its integer divisions.)
        /// </summary>
        private void Finish(float* tiles, int v0, int v1, int r0)
        {
            float* transposed = stackalloc float[16 * 16];
            int size = g.OutputSize;
            for (int v = v0; v < v1; v += 16)
            {
                int n = Math.Min(16, v1 - v);
                for (int q = 0; q < Block; q += 16)
                {
                    ChannelBlockTranspose.Run(tiles + (long)(v - v0) * Block + q, Block, transposed);
                    for (int j = 0; j < 16; j++)
                    {
                        int r = r0 + q + j;
                        float b = bias == null ? 0f : bias[gi * Rows + r];
                        var values = Vector512.Load(transposed + j * 16);
                        for (int lane = 0; lane < n;)
                        {
                            // A run of the 16 pixels that lies in one image.
                            int image = (v + lane) / size, pos = (v + lane) % size, length = Math.Min(n - lane, size - pos);
                            long plane = ((long)(first + image) * m + (long)gi * Rows + r) * size;
                            Store(values, bias != null, b, sum == null ? null : sum + plane + pos - lane, y + plane + pos - lane, lane, length);
                            if (ActivationPerChunk && !_reluInStore)
                            {
                                activation.Apply(new Span<float>(y + plane + pos, length));
                            }

                            lane += length;
                        }
                    }
                }
            }
        }

        /// <summary>dst[lane, lane + length) = values (+ b) (+ sum), in that order, then max(., +0) with Relu.</summary>
        private void Store(Vector512<float> values, bool hasBias, float b, float* sum, float* dst, int lane, int length)
        {
            var v = hasBias ? values + Vector512.Create(b) : values;
            if (lane == 0 && length == 16)
            {
                v = sum != null ? v + Vector512.Load(sum) : v;
                (_reluInStore ? Vector512.Max(v, Vector512<float>.Zero) : v).Store(dst);
                return;
            }

            // Lanes outside the run belong to another image or lie past the plane: AVX-512's masked loads and stores
            // touch no memory outside the mask.
            var indices = Vector512<int>.Indices;
            var mask = (Vector512.GreaterThanOrEqual(indices, Vector512.Create(lane))
                & Vector512.LessThan(indices, Vector512.Create(lane + length))).AsSingle();
            v = sum != null ? v + Avx512F.MaskLoad(sum, mask, Vector512<float>.Zero) : v;
            Avx512F.MaskStore(dst, mask, _reluInStore ? Vector512.Max(v, Vector512<float>.Zero) : v);
        }

        /// <summary>The activation over whole output planes [start, end), counted image after image through the batch.</summary>
        public void ActivatePlanes(int start, int end)
        {
            int size = g.OutputSize;
            for (int plane = start; plane < end; plane++)
            {
                long at = ((long)(first + plane / Rows) * m + (long)gi * Rows + plane % Rows) * size;
                activation.Apply(new Span<float>(y + at, size));
            }
        }
    }
}
