namespace Tessera.Kernels.Convolution;

/// <summary>
/// A <see cref="PhaseLayout"/> with its input channels interleaved 16 at a time (as NCHWc): block cb holds, for each
/// position of one channel's phase layout, the 16 floats of channels 16cb..16cb+15 on one cache line, so the depth
/// steps of <see cref="ChannelBlockedConv"/> (a tap's 16 channels one after another) read neighbouring floats. Lanes
/// past the last channel are never read.
/// </summary>
internal readonly unsafe struct InterleavedLayout
{
    public const int Lanes = 16;

    private readonly PhaseLayout _layout;
    private readonly int _channels;

    public InterleavedLayout(PhaseLayout layout, int channels)
    {
        _layout = layout;
        _channels = channels;
        Blocks = (channels + Lanes - 1) / Lanes;
        Positions = (layout.ChannelFloats + Lanes - 1) / Lanes * Lanes;
        BlockFloats = Positions * Lanes;
        Floats = Blocks * BlockFloats;
    }

    public int Blocks { get; }

    /// <summary>Positions per block: one channel's phase layout, rounded up to whole transposes.</summary>
    public long Positions { get; }

    public long BlockFloats { get; }

    /// <summary>Floats of one image's group.</summary>
    public long Floats { get; }

    /// <summary>
    /// Writes block cb of a channel-blocked x (the image's blocks, <see cref="ChannelBlockedLayout"/>) into dst (the
    /// image's layout): the padded rows [paddedRow0, paddedRow1) of it, and the border.
    /// </summary>
    public void FillBlocked(float* x, int cb, float* dst, ConvGeometry g, int paddedRow0 = 0, int paddedRow1 = int.MaxValue) =>
        _layout.FillBlocked(x + (long)cb * Lanes * g.InputSize, dst + cb * BlockFloats, g, paddedRow0, paddedRow1);

    /// <summary>Writes block cb of x (the group's channels, planes of the input size) into dst (the image's layout), through a planar scratch layout.</summary>
    public void Fill(float* x, int cb, float* dst, ConvGeometry g)
    {
        int c0 = cb * Lanes, count = Math.Min(Lanes, _channels - c0);

        // The 16 transposed rows stay inside the scratch: rows past the block's channels read its zeroed tail and beyond.
        float* planar = ConvScratch.Get(0, _layout.Floats(Lanes) + Lanes);
        _layout.Fill(x + (long)c0 * g.InputSize, 0, count, count, planar, g);
        float* block = dst + cb * BlockFloats;
        int stride = checked((int)_layout.ChannelFloats);
        for (long pos = 0; pos < Positions; pos += Lanes)
        {
            ChannelBlockTranspose.Run(planar + pos, stride, block + pos * Lanes);
        }
    }
}
