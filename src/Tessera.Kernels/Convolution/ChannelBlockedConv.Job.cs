using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class ChannelBlockedConv
{
    /// <summary>One group's batch of images [First, First + Count): what the parallel bodies share (read only).</summary>
    private readonly struct Job(float* x, float* bias, float* sum, float* y, float* weights, float* layouts, int* offsets, int* columns,
        InterleavedLayout interleaved, ConvGeometry g, FusedActivation activation, int c, int m, int group, int gi, int first,
        int count, int depth, int depthBlock, BlockedOperands blocked)
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

        // With AVX-512 a channel-blocked Y whose sum (if any) is blocked too and whose activation is Relu or none is
        // finished by the micro-kernel's last depth block from its registers (ChannelBlockedFinish: the same operations
        // as FinishBlocked), saving the tile's store and reload.
        private readonly bool _finishInKernel = (blocked & BlockedOperands.Y) != 0 && (sum == null || (blocked & BlockedOperands.Sum) != 0)
            && activation.Kind is ActivationKind.None or ActivationKind.Relu;

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

        private void FillBlock(int b, int cb, float* layout, int paddedRow0 = 0, int paddedRow1 = int.MaxValue)
        {
            int cg = c / group;
            float* image = x + ((long)(first + b) * c + (long)gi * cg) * g.InputSize;
            if ((blocked & BlockedOperands.X) != 0)
            {
                interleaved.FillBlocked(image, cb, layout, g, paddedRow0, paddedRow1);
                return;
            }

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
        /// Output rows [outH part / parts, outH (part + 1) / parts) of the batch's one image on this thread: the padded
        /// input rows their taps read filled into the thread's scratch (X channel-blocked), then every block's chunks of
        /// their pixels. What a thread reads it filled itself, from the rows of X it wrote in the layer before (but the
        /// halo), so no layout line moves between the cores.
        /// </summary>
        public void RunRows(int part, int parts)
        {
            int outH = g.Output[0], outW = g.Output[1];
            int o0 = outH * part / parts, o1 = outH * (part + 1) / parts;
            if (o0 == o1)
            {
                return;
            }

            float* layout = ConvScratch.Get(1, interleaved.Floats);
            int paddedRow0 = o0 * g.Strides[0], paddedRow1 = (o1 - 1) * g.Strides[0] + (g.Kernel[0] - 1) * g.Dilations[0] + 1;
            for (int cb = 0; cb < interleaved.Blocks; cb++)
            {
                FillBlock(0, cb, layout, paddedRow0, paddedRow1);
            }

            int start = o0 * outW, end = o1 * outW;
            for (int block = 0; block < Rows / Block; block++)
            {
                for (int v0 = start; v0 < end; v0 += ChunkPixels)
                {
                    ComputeChunk(block, v0, Math.Min(end, v0 + ChunkPixels), layout, columns + v0);
                }
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
            if (ChannelBlockMicroKernel.IsSupported)
            {
                int* tail = stackalloc int[Tile];
                long* outputs = stackalloc long[Tile];
                for (int pc = 0; pc < depth; pc += depthBlock)
                {
                    int kc = Math.Min(depthBlock, depth - pc);
                    bool finish = _finishInKernel && pc + kc == depth;
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

                        float* tile = tiles + (long)(v - v0) * Block;
                        if (finish)
                        {
                            var output = BlockedOutput(v, Math.Min(Tile, v1 - v), block * Block, outputs);
                            ChannelBlockMicroKernel.Run(w + (long)pc * Block, layout, at, offsets + pc, kc, tile, pc > 0, ref output);
                            continue;
                        }

                        ChannelBlockMicroKernel.Run(w + (long)pc * Block, layout, at, offsets + pc, kc, tile, pc > 0);
                    }
                }

                if (_finishInKernel)
                {
                    return;
                }
            }
            else
            {
                // The AVX2 kernel sweeps a quarter of the channels over all the chunk's tiles at once: their pixel
                // columns in one list, the short tile padded as above.
                int count = v1 - v0, tileCount = (count + Tile - 1) / Tile;
                int* all = stackalloc int[ChunkPixels + Tile];
                for (int p = 0; p < tileCount * Tile; p++)
                {
                    all[p] = cols[p < count ? p : p - p % Tile];
                }

                for (int pc = 0; pc < depth; pc += depthBlock)
                {
                    ChannelBlockMicroKernelAvx2.Sweep(w + (long)pc * Block, layout, all, tileCount, offsets + pc, Math.Min(depthBlock, depth - pc), tiles, pc > 0);
                }
            }

            Finish(tiles, v0, v1, block * Block);
        }

        /// <summary>
        /// The last depth block's finish into a channel-blocked Y for the tile of the batch's pixels [v, v + valid) and
        /// channels [r0, r0 + 64): each pixel's offset of its first 16 channels in Y (and sum) written to outputs.
        /// </summary>
        private ChannelBlockedFinish BlockedOutput(int v, int valid, int r0, long* outputs)
        {
            int size = g.OutputSize, channel0 = gi * Rows + r0;

            // One division per tile: the tile's pixels step along the plane, into the next image at its end.
            int image = first + v / size, pos = v % size;
            for (int p = 0; p < valid; p++)
            {
                outputs[p] = ((long)image * m + channel0) * size + (long)pos * ChannelBlockedLayout.Lanes;
                if (++pos == size)
                {
                    pos = 0;
                    image++;
                }
            }

            return new ChannelBlockedFinish(y, bias == null ? null : bias + channel0, sum, outputs, valid, (long)size * ChannelBlockedLayout.Lanes,
                _reluInStore);
        }

        /// <summary>
        /// Tile rows (pixels) [v0, v1) of channels [r0, r0 + 64) into Y: 16 pixels x 16 channels at a time, transposed so
        /// each channel's pixels are one vector, stored with bias, sum and activation. (Working out the pixels' image runs
        /// once per 16 pixels instead of once per channel measured 0.97-1.01 at batch 8 on 28x28, 14x14 and 7x7 planes:
        /// the finish waits on memory, not on its integer divisions.)
        /// </summary>
        private void Finish(float* tiles, int v0, int v1, int r0)
        {
            if ((blocked & BlockedOperands.Y) != 0)
            {
                FinishBlocked(tiles, v0, v1, r0);
                return;
            }

            float* transposed = stackalloc float[16 * 16];
            int size = g.OutputSize;

            // A channel-blocked sum is added (after the bias, as Store does) to the pixel-major tile, before its transpose.
            bool sumBlocked = sum != null && (blocked & BlockedOperands.Sum) != 0;
            for (int v = v0; v < v1; v += 16)
            {
                int n = Math.Min(16, v1 - v);
                for (int q = 0; q < Block; q += 16)
                {
                    float* rows = tiles + (long)(v - v0) * Block + q;
                    if (sumBlocked)
                    {
                        AddBlockedSum(rows, v, n, gi * Rows + r0 + q);
                    }

                    ChannelBlockTranspose.Run(rows, Block, transposed);
                    for (int j = 0; j < 16; j++)
                    {
                        int r = r0 + q + j;
                        float b = bias == null || sumBlocked ? 0f : bias[gi * Rows + r];
                        for (int lane = 0; lane < n;)
                        {
                            // A run of the 16 pixels that lies in one image.
                            int image = (v + lane) / size, pos = (v + lane) % size, length = Math.Min(n - lane, size - pos);
                            long plane = ((long)(first + image) * m + (long)gi * Rows + r) * size;
                            ChannelBlockStore.Run(transposed + j * 16, bias != null && !sumBlocked, b, sum == null || sumBlocked ? null : sum + plane + pos - lane,
                                y + plane + pos - lane, lane, length, _reluInStore);
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

        /// <summary>
        /// Tile rows [v0, v1) of channels [r0, r0 + 64) into a channel-blocked Y: a pixel's 16 channels of a block are one
        /// tile vector and one store, with the same bias, sum and activation as <see cref="Store"/>, element for element.
        /// (Where the micro-kernel finishes Y itself, <see cref="ChannelBlockedFinish"/>, this is not called: on AVX2, with
        /// an NCHW sum, or with activations other than Relu.)
        /// </summary>
        private void FinishBlocked(float* tiles, int v0, int v1, int r0)
        {
            const int Lanes = ChannelBlockedLayout.Lanes;
            int size = g.OutputSize, channel0 = gi * Rows + r0;
            bool sumPlanar = sum != null && (blocked & BlockedOperands.Sum) == 0;
            float* staged = stackalloc float[Block * 16];
            for (int v = v0; v < v1; v += 16)
            {
                int n = Math.Min(16, v1 - v);
                for (int q = 0; sumPlanar && q < Block; q += Lanes)
                {
                    StageSum(staged + q * 16, v, n, channel0 + q);
                }

                for (int p = 0; p < n; p++)
                {
                    int pixel = v + p, pos = pixel % size;
                    long image = first + pixel / size;
                    float* row = tiles + (long)(pixel - v0) * Block;
                    for (int q = 0; q < Block; q += Lanes)
                    {
                        long at = (image * m + channel0 + q) * size + (long)pos * Lanes;
                        ChannelBlockStore.Pixel(row + q, bias == null ? null : bias + channel0 + q,
                            sum == null ? null : sumPlanar ? staged + q * 16 + p * Lanes : sum + at, y + at, _reluInStore);
                        if (ActivationPerChunk && !_reluInStore)
                        {
                            activation.Apply(new Span<float>(y + at, Lanes));
                        }
                    }
                }
            }
        }

        /// <summary>staged[p * 16 + i] = the NCHW sum of channel + i at the batch's pixel v + p, for p &lt; n.</summary>
        private void StageSum(float* staged, int v, int n, int channel)
        {
            int size = g.OutputSize, pos = v % size;
            long image = first + v / size;
            if (n == 16 && pos + 16 <= size)
            {
                ChannelBlockTranspose.Run(sum + (image * m + channel) * size + pos, size, staged);
                return;
            }

            for (int p = 0; p < n; p++)
            {
                int pixel = v + p;
                long plane = ((long)first + pixel / size) * m + channel;
                for (int i = 0; i < 16; i++)
                {
                    staged[p * 16 + i] = sum[(plane + i) * size + pixel % size];
                }
            }
        }

        /// <summary>rows[p * 64, + 16) = rows + bias + the channel-blocked sum, for the block's channels from channel on and the batch's pixels v + p, p &lt; n.</summary>
        private void AddBlockedSum(float* rows, int v, int n, int channel)
        {
            int size = g.OutputSize;
            for (int p = 0; p < n; p++)
            {
                int pixel = v + p;
                long at = ((first + pixel / size) * (long)m + channel) * size + (long)(pixel % size) * ChannelBlockedLayout.Lanes;
                ChannelBlockStore.Pixel(rows + p * Block, bias == null ? null : bias + channel, sum + at, rows + p * Block, relu: false);
            }
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
