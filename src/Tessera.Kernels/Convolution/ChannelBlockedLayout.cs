namespace Tessera.Kernels.Convolution;

/// <summary>
/// The order of a channel-blocked activation (as ONNX Runtime's NCHWc): image, 16-channel block, pixel, the block's 16
/// channels; the tensor keeps its NCHW shape and element count, only its producer and consumers know the order. Element
/// (n, c, p) of a tensor with C channels and S pixels per plane lies at ((n C / 16 + c / 16) S + p) 16 + c % 16, so a
/// block's first float is where NCHW keeps plane c of image n: ((n C + c) S. <see cref="ChannelBlockedConv"/> reads
/// and writes it natively; other kernels convert through these copies.
/// </summary>
internal static unsafe class ChannelBlockedLayout
{
    public const int Lanes = 16;

    /// <summary>Whether a tensor of this many channels can be stored blocked: whole blocks only.</summary>
    public static bool Fits(int channels) => channels > 0 && channels % Lanes == 0;

    /// <summary>dst (NCHW) = src (blocked), for n images of c channels of size pixels.</summary>
    public static void ToPlanar(float* src, float* dst, int n, int c, long size) => Copy(src, Lanes, 1, dst, 1, size, n, c, size);

    /// <summary>dst (blocked) = src (NCHW), for n images of c channels of size pixels.</summary>
    public static void ToBlocked(float* src, float* dst, int n, int c, long size) => Copy(src, 1, size, dst, Lanes, 1, n, c, size);

    /// <summary>Each block's floats from src to dst, (pixel, lane) at pixel * pixelStride + lane * laneStride on either side.</summary>
    private static void Copy(float* src, long srcPixel, long srcLane, float* dst, long dstPixel, long dstLane, int n, int c, long size)
    {
        for (long block = 0; block < (long)n * c / Lanes; block++)
        {
            float* from = src + block * Lanes * size, to = dst + block * Lanes * size;
            for (long p = 0; p < size; p++)
            {
                for (int lane = 0; lane < Lanes; lane++)
                {
                    to[p * dstPixel + lane * dstLane] = from[p * srcPixel + lane * srcLane];
                }
            }
        }
    }
}
