using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class ChannelBlockedConv
{
    /// <summary>
    /// One group's batch of images [First, First + Count): what the parallel bodies share (read only). Its parts are
    /// fields, not primary-constructor parameters, so its finishing methods can live in another file
    /// (ChannelBlockedConv.Finish.cs).
    /// </summary>
    private readonly partial struct Job
    {
        private readonly float* _x;
        private readonly float* _bias;
        private readonly float* _sum;
        private readonly float* _y;
        private readonly float* _weights;
        private readonly float* _layouts;
        private readonly int* _offsets;
        private readonly int* _columns;
        private readonly InterleavedLayout _interleaved;
        private readonly ConvGeometry _g;
        private readonly FusedActivation _activation;
        private readonly int _c;
        private readonly int _m;
        private readonly int _group;
        private readonly int _gi;
        private readonly int _first;
        private readonly int _depth;
        private readonly int _depthBlock;
        private readonly BlockedOperands _blocked;

        public readonly int Count;

        /// <summary>Output channels per group.</summary>
        public readonly int Rows;

        /// <summary>
        /// Whether the activation may run on each chunk's piece of a plane: true when it computes every element with
        /// correctly rounded operations only, so the pieces cannot change its bits; others run on whole planes at the end.
        /// </summary>
        public readonly bool ActivationPerChunk;

        // Relu is applied as the tile is stored (the same IEEE maximum with +0 as the activation's), saving a pass over Y.
        private readonly bool _reluInStore;

        private readonly int _pixels;

        // With AVX-512 a channel-blocked Y whose sum (if any) is blocked too and whose activation is Relu or none is
        // finished by the micro-kernel's last depth block from its registers (ChannelBlockedFinish: the same operations
        // as FinishBlocked), saving the tile's store and reload.
        private readonly bool _finishInKernel;

        public Job(float* x, float* bias, float* sum, float* y, float* weights, float* layouts, int* offsets, int* columns,
            InterleavedLayout interleaved, ConvGeometry g, FusedActivation activation, int c, int m, int group, int gi, int first,
            int count, int depth, int depthBlock, BlockedOperands blocked)
        {
            _x = x;
            _bias = bias;
            _sum = sum;
            _y = y;
            _weights = weights;
            _layouts = layouts;
            _offsets = offsets;
            _columns = columns;
            _interleaved = interleaved;
            _g = g;
            _activation = activation;
            _c = c;
            _m = m;
            _group = group;
            _gi = gi;
            _first = first;
            _depth = depth;
            _depthBlock = depthBlock;
            _blocked = blocked;
            Count = count;
            Rows = m / group;
            ActivationPerChunk = activation.IsExactPerElement;
            _reluInStore = activation.Kind == ActivationKind.Relu;
            _pixels = count * g.OutputSize;
            _finishInKernel = (blocked & BlockedOperands.Y) != 0 && (sum == null || (blocked & BlockedOperands.Sum) != 0)
                && activation.Kind is ActivationKind.None or ActivationKind.Relu;
        }

        private int Chunks => (_pixels + ChunkPixels - 1) / ChunkPixels;

        /// <summary>Work items: every (channel block, pixel chunk) pair, chunk-minor so a thread's items share weights.</summary>
        public int Items => Rows / Block * Chunks;

        /// <summary>Writes the interleaved layouts' channel blocks [start, end), counted image after image through the batch.</summary>
        public void Fill(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                int b = i / _interleaved.Blocks;
                FillBlock(b, i % _interleaved.Blocks, _layouts + b * _interleaved.Floats);
            }
        }

        private void FillBlock(int b, int cb, float* layout, int paddedRow0 = 0, int paddedRow1 = int.MaxValue)
        {
            int cg = _c / _group;
            float* image = _x + ((long)(_first + b) * _c + (long)_gi * cg) * _g.InputSize;
            if ((_blocked & BlockedOperands.X) != 0)
            {
                _interleaved.FillBlocked(image, cb, layout, _g, paddedRow0, paddedRow1);
                return;
            }

            _interleaved.Fill(image, cb, layout, _g);
        }

        /// <summary>Item i: its block's 64 channels for its chunk's pixels (columns from the batch's first pixel on).</summary>
        public void Compute(int item)
        {
            int block = item / Chunks, v0 = item % Chunks * ChunkPixels;
            ComputeChunk(block, v0, Math.Min(_pixels, v0 + ChunkPixels), _layouts, _columns + v0);
        }

        /// <summary>
        /// Image b (of the batch) alone on this thread: its layout filled into the thread's scratch, then every block's
        /// chunks of its pixels, whose columns are those of the batch's first image.
        /// </summary>
        public void RunImage(int b)
        {
            float* layout = ConvScratch.Get(1, _interleaved.Floats);
            for (int cb = 0; cb < _interleaved.Blocks; cb++)
            {
                FillBlock(b, cb, layout);
            }

            int size = _g.OutputSize, start = b * size;
            for (int block = 0; block < Rows / Block; block++)
            {
                for (int v0 = start; v0 < start + size; v0 += ChunkPixels)
                {
                    ComputeChunk(block, v0, Math.Min(start + size, v0 + ChunkPixels), layout, _columns + (v0 - start));
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
            int outH = _g.Output[0], outW = _g.Output[1];
            int o0 = outH * part / parts, o1 = outH * (part + 1) / parts;
            if (o0 == o1)
            {
                return;
            }

            float* layout = ConvScratch.Get(1, _interleaved.Floats);
            int paddedRow0 = o0 * _g.Strides[0], paddedRow1 = (o1 - 1) * _g.Strides[0] + (_g.Kernel[0] - 1) * _g.Dilations[0] + 1;
            for (int cb = 0; cb < _interleaved.Blocks; cb++)
            {
                FillBlock(0, cb, layout, paddedRow0, paddedRow1);
            }

            int start = o0 * outW, end = o1 * outW;
            for (int block = 0; block < Rows / Block; block++)
            {
                for (int v0 = start; v0 < end; v0 += ChunkPixels)
                {
                    ComputeChunk(block, v0, Math.Min(end, v0 + ChunkPixels), layout, _columns + v0);
                }
            }
        }

        /// <summary>
        /// Channels [64 block, + 64) of the batch's pixels [v0, v1) (cols[v - v0]: pixel v's column in layout), depth
        /// block by depth block into a tile matrix, then finished into Y.
        /// </summary>
        private void ComputeChunk(int block, int v0, int v1, float* layout, int* cols)
        {
            float* w = _weights + (long)(_gi * (Rows / Block) + block) * _depth * Block;
            float* tiles = ConvScratch.Get(2, ChunkPixels * Block);

            // The last tile of a chunk may be short: its missing pixels repeat its first (computed, never stored).
            if (ChannelBlockMicroKernel.IsSupported)
            {
                int* tail = stackalloc int[Tile];
                long* outputs = stackalloc long[Tile];
                for (int pc = 0; pc < _depth; pc += _depthBlock)
                {
                    int kc = Math.Min(_depthBlock, _depth - pc);
                    bool finish = _finishInKernel && pc + kc == _depth;
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
                            ChannelBlockMicroKernel.Run(w + (long)pc * Block, layout, at, _offsets + pc, kc, tile, pc > 0, ref output);
                            continue;
                        }

                        ChannelBlockMicroKernel.Run(w + (long)pc * Block, layout, at, _offsets + pc, kc, tile, pc > 0);
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
                // columns in one list, the short tile padded as above (but computed only for its own pixels).
                int count = v1 - v0, tileCount = (count + Tile - 1) / Tile;
                int* all = stackalloc int[ChunkPixels + Tile];
                for (int p = 0; p < tileCount * Tile; p++)
                {
                    all[p] = cols[p < count ? p : p - p % Tile];
                }

                for (int pc = 0; pc < _depth; pc += _depthBlock)
                {
                    ChannelBlockMicroKernelAvx2.Sweep(w + (long)pc * Block, layout, all, tileCount, count - (tileCount - 1) * Tile, _offsets + pc,
                        Math.Min(_depthBlock, _depth - pc), tiles, pc > 0);
                }
            }

            Finish(tiles, v0, v1, block * Block);
        }
    }
}
