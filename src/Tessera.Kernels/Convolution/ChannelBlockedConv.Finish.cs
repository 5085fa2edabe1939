using Tessera.Kernels.Fused;

namespace Tessera.Kernels.Convolution;

internal sealed unsafe partial class ChannelBlockedConv
{
    /// <summary>The job's finishing: a chunk's tile matrix (or the micro-kernel's registers) into Y with bias, sum and activation.</summary>
    private readonly partial struct Job
    {
        /// <summary>
        /// The last depth block's finish into a channel-blocked Y for the tile of the batch's pixels [v, v + valid) and
        /// channels [r0, r0 + 64): each pixel's offset of its first 16 channels in Y (and sum) written to outputs.
        /// </summary>
        private ChannelBlockedFinish BlockedOutput(int v, int valid, int r0, long* outputs)
        {
            int size = _g.OutputSize, channel0 = _gi * Rows + r0;

            // One division per tile: the tile's pixels step along the plane, into the next image at its end.
            int image = _first + v / size, pos = v % size;
            for (int p = 0; p < valid; p++)
            {
                outputs[p] = ((long)image * _m + channel0) * size + (long)pos * ChannelBlockedLayout.Lanes;
                if (++pos == size)
                {
                    pos = 0;
                    image++;
                }
            }

            return new ChannelBlockedFinish(_y, _bias == null ? null : _bias + channel0, _sum, outputs, valid, (long)size * ChannelBlockedLayout.Lanes,
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
            if ((_blocked & BlockedOperands.Y) != 0)
            {
                FinishBlocked(tiles, v0, v1, r0);
                return;
            }

            float* transposed = stackalloc float[16 * 16];
            int size = _g.OutputSize;

            // A channel-blocked sum is added (after the bias, as Store does) to the pixel-major tile, before its transpose.
            bool sumBlocked = _sum != null && (_blocked & BlockedOperands.Sum) != 0;
            for (int v = v0; v < v1; v += 16)
            {
                int n = Math.Min(16, v1 - v);
                for (int q = 0; q < Block; q += 16)
                {
                    float* rows = tiles + (long)(v - v0) * Block + q;
                    if (sumBlocked)
                    {
                        AddBlockedSum(rows, v, n, _gi * Rows + r0 + q);
                    }

                    ChannelBlockTranspose.Run(rows, Block, transposed);
                    for (int j = 0; j < 16; j++)
                    {
                        int r = r0 + q + j;
                        float b = _bias == null || sumBlocked ? 0f : _bias[_gi * Rows + r];
                        for (int lane = 0; lane < n;)
                        {
                            // A run of the 16 pixels that lies in one image.
                            int image = (v + lane) / size, pos = (v + lane) % size, length = Math.Min(n - lane, size - pos);
                            long plane = ((long)(_first + image) * _m + (long)_gi * Rows + r) * size;
                            ChannelBlockStore.Run(transposed + j * 16, _bias != null && !sumBlocked, b, _sum == null || sumBlocked ? null : _sum + plane + pos - lane,
                                _y + plane + pos - lane, lane, length, _reluInStore);
                            if (ActivationPerChunk && !_reluInStore)
                            {
                                _activation.Apply(new Span<float>(_y + plane + pos, length));
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
            int size = _g.OutputSize, channel0 = _gi * Rows + r0;
            bool sumPlanar = _sum != null && (_blocked & BlockedOperands.Sum) == 0;
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
                    long image = _first + pixel / size;
                    float* row = tiles + (long)(pixel - v0) * Block;
                    for (int q = 0; q < Block; q += Lanes)
                    {
                        long at = (image * _m + channel0 + q) * size + (long)pos * Lanes;
                        ChannelBlockStore.Pixel(row + q, _bias == null ? null : _bias + channel0 + q,
                            _sum == null ? null : sumPlanar ? staged + q * 16 + p * Lanes : _sum + at, _y + at, _reluInStore);
                        if (ActivationPerChunk && !_reluInStore)
                        {
                            _activation.Apply(new Span<float>(_y + at, Lanes));
                        }
                    }
                }
            }
        }

        /// <summary>staged[p * 16 + i] = the NCHW sum of channel + i at the batch's pixel v + p, for p &lt; n.</summary>
        private void StageSum(float* staged, int v, int n, int channel)
        {
            int size = _g.OutputSize, pos = v % size;
            long image = _first + v / size;
            if (n == 16 && pos + 16 <= size)
            {
                ChannelBlockTranspose.Run(_sum + (image * _m + channel) * size + pos, size, staged);
                return;
            }

            for (int p = 0; p < n; p++)
            {
                int pixel = v + p;
                long plane = ((long)_first + pixel / size) * _m + channel;
                for (int i = 0; i < 16; i++)
                {
                    staged[p * 16 + i] = _sum[(plane + i) * size + pixel % size];
                }
            }
        }

        /// <summary>rows[p * 64, + 16) = rows + bias + the channel-blocked sum, for the block's channels from channel on and the batch's pixels v + p, p &lt; n.</summary>
        private void AddBlockedSum(float* rows, int v, int n, int channel)
        {
            int size = _g.OutputSize;
            for (int p = 0; p < n; p++)
            {
                int pixel = v + p;
                long at = ((_first + pixel / size) * (long)_m + channel) * size + (long)(pixel % size) * ChannelBlockedLayout.Lanes;
                ChannelBlockStore.Pixel(rows + p * Block, _bias == null ? null : _bias + channel, _sum + at, rows + p * Block, relu: false);
            }
        }

        /// <summary>The activation over whole output planes [start, end), counted image after image through the batch.</summary>
        public void ActivatePlanes(int start, int end)
        {
            int size = _g.OutputSize;
            for (int plane = start; plane < end; plane++)
            {
                long at = ((long)(_first + plane / Rows) * _m + (long)_gi * Rows + plane % Rows) * size;
                _activation.Apply(new Span<float>(_y + at, size));
            }
        }
    }
}
