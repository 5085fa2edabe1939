using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>
/// Images into the PP-OCR models' NCHW float inputs, as PaddleOCR prepares them: bilinear resizing with OpenCV's
/// pixel-centre convention, per-channel normalisation, channels in OpenCV's BGR order (the models were trained on it).
/// </summary>
internal static class ImageTensors
{
    private static readonly float[] DetectionMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] DetectionStd = [0.229f, 0.224f, 0.225f];
    private static readonly float[] LineMean = [0.5f, 0.5f, 0.5f];
    private static readonly float[] LineStd = [0.5f, 0.5f, 0.5f];

    /// <summary>
    /// The detector's input size for an image (PaddleOCR's DetResizeForTest, limit type "max"): the longer side
    /// brought down to <paramref name="limit"/> when larger, then each side rounded to a multiple of 32.
    /// </summary>
    public static (int Width, int Height) DetectionSize(int width, int height, int limit = 960)
    {
        double ratio = Math.Max(width, height) > limit ? (double)limit / Math.Max(width, height) : 1.0;
        static int Round32(double side) => Math.Max((int)(Math.Round(side / 32, MidpointRounding.ToEven) * 32), 32);
        return (Round32(width * ratio), Round32(height * ratio));
    }

    /// <summary>Pages of one detection size as one batch, each resized to it (ImageNet mean and deviation).</summary>
    public static Tensor DetectionBatch(IReadOnlyList<RgbImage> pages, int width, int height)
    {
        var batch = Tensor.Allocate(DataType.Float32, [pages.Count, 3, height, width]);
        for (int n = 0; n < pages.Count; n++)
        {
            ResizeInto(pages[n], batch.Span<float>().Slice(n * 3 * height * width, 3 * height * width), width, height, width, DetectionMean, DetectionStd);
        }

        return batch;
    }

    /// <summary>
    /// The width a line of text takes at <paramref name="height"/> pixels tall (PaddleOCR's resize_norm_img): its
    /// aspect ratio kept, rounded up, and no wider than <paramref name="maxWidth"/>.
    /// </summary>
    public static int LineWidth(RgbImage line, int height, int maxWidth) =>
        Math.Min(maxWidth, (int)Math.Ceiling(height * (double)line.Width / line.Height));

    /// <summary>Lines of text as one batch <paramref name="height"/> tall and <paramref name="width"/> wide, each resized by its aspect ratio and padded with zeros on the right.</summary>
    public static Tensor LineBatch(IReadOnlyList<RgbImage> lines, int height, int width)
    {
        var batch = Tensor.AllocateZeroed(DataType.Float32, [lines.Count, 3, height, width]);
        for (int n = 0; n < lines.Count; n++)
        {
            ResizeInto(lines[n], batch.Span<float>().Slice(n * 3 * height * width, 3 * height * width), LineWidth(lines[n], height, width), height, width, LineMean, LineStd);
        }

        return batch;
    }

    /// <summary>Bilinear resize to <paramref name="width"/> × <paramref name="height"/> into the left of planes <paramref name="stride"/> wide, as (value / 255 - mean) / std in B, G, R order.</summary>
    private static void ResizeInto(RgbImage image, Span<float> planes, int width, int height, int stride, float[] mean, float[] std)
    {
        var (x0, x1, wx) = Taps(image.Width, width);
        var (y0, y1, wy) = Taps(image.Height, height);
        byte[] p = image.Pixels;
        int plane = height * stride;
        for (int y = 0; y < height; y++)
        {
            int top = y0[y] * image.Width, bottom = y1[y] * image.Width;
            float fy = wy[y];
            for (int x = 0; x < width; x++)
            {
                float fx = wx[x];
                for (int c = 0; c < 3; c++)
                {
                    float a = p[(top + x0[x]) * 3 + c], b = p[(top + x1[x]) * 3 + c];
                    float d = p[(bottom + x0[x]) * 3 + c], e = p[(bottom + x1[x]) * 3 + c];
                    float value = (a + (b - a) * fx) * (1 - fy) + (d + (e - d) * fx) * fy;
                    int bgr = 2 - c;
                    planes[bgr * plane + y * stride + x] = (value / 255f - mean[bgr]) / std[bgr];
                }
            }
        }
    }

    /// <summary>For each output position, the two source positions and the weight of the second (OpenCV's INTER_LINEAR).</summary>
    private static (int[] First, int[] Second, float[] Weight) Taps(int source, int target)
    {
        var first = new int[target];
        var second = new int[target];
        var weight = new float[target];
        double scale = (double)source / target;
        for (int i = 0; i < target; i++)
        {
            double at = (i + 0.5) * scale - 0.5;
            int lo = (int)Math.Floor(at);
            double w = at - lo;
            if (lo < 0)
            {
                lo = 0;
                w = 0;
            }

            if (lo >= source - 1)
            {
                lo = source - 1;
                w = 0;
            }

            first[i] = lo;
            second[i] = Math.Min(lo + 1, source - 1);
            weight[i] = (float)w;
        }

        return (first, second, weight);
    }
}
