using Tessera.Kernels.Convolution;

namespace Tessera.Tests.Kernels.Convolution;

/// <summary>
/// The direct convolutions' input layout read the way their micro-kernels read it (tap offset + oh * RowPitch + ow) for
/// every valid output and tap: each read must give the zero-padded input, even when the buffer held other data
/// before (scratch is reused between layers). Widths of 14, 28 and 56 and odd ones end the stride-2 split's rows in a
/// partial vector.
/// The channel-blocked fill (16 channels per position) is read the same way, lane by lane.
/// </summary>
public sealed unsafe class PhaseLayoutTests
{
    /// <summary>Channels, height, width, kernel height and width, pad, stride, dilation.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Geometries => new()
    {
        { 3, 56, 56, 1, 1, 0, 2, 1 }, // ResNet's 1x1 stride-2 downsamples
        { 5, 28, 28, 1, 1, 0, 2, 1 },
        { 4, 14, 14, 1, 1, 0, 2, 1 },
        { 3, 56, 56, 3, 3, 1, 2, 1 }, // its stride-2 3x3s
        { 2, 14, 14, 3, 3, 1, 2, 1 },
        { 2, 13, 27, 3, 3, 1, 1, 1 },
        { 3, 37, 41, 7, 7, 3, 2, 1 }, // a stem
        { 2, 20, 29, 3, 2, 0, 3, 2 },
        { 2, 21, 35, 2, 2, 1, 4, 1 },
        { 2, 20, 70, 1, 1, 1, 2, 1 }, // odd left pad: the odd input columns
        { 2, 33, 66, 3, 3, 2, 2, 2 }, // dilation = stride: phase 0 only
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void EveryTapReadsThePaddedInput(int channels, int h, int w, int kh, int kw, int pad, int stride, int dilation)
    {
        var (g, outH, outW) = Geometry(h, w, kh, kw, pad, stride, dilation);
        var layout = new PhaseLayout(g);
        var x = Input(channels * h * w, h * 100 + w);

        var buffer = new float[layout.Floats(channels)];
        Array.Fill(buffer, float.NaN);
        var offsets = new int[channels * kh * kw];
        layout.Offsets(channels, g, offsets);
        fixed (float* px = x, pb = buffer)
        {
            // Two calls over channel ranges, as threads split them.
            layout.Fill(px, 0, channels / 2, channels, pb, g);
            layout.Fill(px, channels / 2, channels, channels, pb, g);
        }

        for (int c = 0; c < channels; c++)
        {
            for (int tap = 0; tap < kh * kw; tap++)
            {
                int th = tap / kw * dilation, tw = tap % kw * dilation;
                for (int oh = 0; oh < outH; oh++)
                {
                    for (int ow = 0; ow < outW; ow++)
                    {
                        int ih = oh * stride + th - pad, iw = ow * stride + tw - pad;
                        float expected = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[(c * h + ih) * w + iw] : 0f;
                        float actual = buffer[offsets[c * kh * kw + tap] + oh * layout.RowPitch + ow];
                        Assert.True(expected == actual, $"channel {c} tap {tap} output ({oh}, {ow}): {actual}, expected {expected}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void EveryTapReadsTheBlockedInputLaneByLane(int channels, int h, int w, int kh, int kw, int pad, int stride, int dilation)
    {
        const int Lanes = ChannelBlockedLayout.Lanes;
        _ = channels; // one block of 16 channels, whatever the planar case's count
        var (g, outH, outW) = Geometry(h, w, kh, kw, pad, stride, dilation);
        var layout = new PhaseLayout(g);

        // One block of 16 channels, pixel-major: (channel c, pixel p) at p * 16 + c.
        var x = Input(Lanes * h * w, h * 100 + w);

        var buffer = new float[layout.ChannelFloats * Lanes];
        Array.Fill(buffer, float.NaN);
        var offsets = new int[kh * kw];
        layout.Offsets(1, g, offsets);
        fixed (float* px = x, pb = buffer)
        {
            layout.FillBlocked(px, pb, g);
        }

        for (int tap = 0; tap < kh * kw; tap++)
        {
            int th = tap / kw * dilation, tw = tap % kw * dilation;
            for (int oh = 0; oh < outH; oh++)
            {
                for (int ow = 0; ow < outW; ow++)
                {
                    int ih = oh * stride + th - pad, iw = ow * stride + tw - pad;
                    for (int c = 0; c < Lanes; c++)
                    {
                        float expected = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[(ih * w + iw) * Lanes + c] : 0f;
                        float actual = buffer[(offsets[tap] + (long)oh * layout.RowPitch + ow) * Lanes + c];
                        Assert.True(expected == actual, $"lane {c} tap {tap} output ({oh}, {ow}): {actual}, expected {expected}");
                    }
                }
            }
        }
    }

    private static (ConvGeometry G, int OutH, int OutW) Geometry(int h, int w, int kh, int kw, int pad, int stride, int dilation)
    {
        int outH = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, outW = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        return (new ConvGeometry([h, w], [kh, kw], [stride, stride], [dilation, dilation], [pad, pad], [pad, pad], [outH, outW]), outH, outW);
    }

    /// <summary>Values in [1, 2): never 0, so a read of the padding is told from a read of the input.</summary>
    private static float[] Input(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = random.NextSingle() + 1f;
        }

        return x;
    }
}
