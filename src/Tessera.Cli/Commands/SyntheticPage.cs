using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>A normalised NCHW image of a light page with dark horizontal strokes, standing in for lines of text.</summary>
internal static class SyntheticPage
{
    public static Tensor Create(int batch, int height, int width)
    {
        var image = Tensor.Allocate(DataType.Float32, [batch, 3, height, width]);
        var data = image.Span<float>();
        var random = new Random(42);
        for (int n = 0; n < batch; n++)
        {
            for (int y = 0; y < height; y++)
            {
                bool lineRow = (y % 24) is >= 6 and < 18;
                for (int x = 0; x < width; x++)
                {
                    bool ink = lineRow && (x / 6 + n) % 3 != 0 && x > width / 10 && x < width * 9 / 10;
                    float value = ink ? 0.1f : 0.9f + (float)(random.NextDouble() * 0.05);
                    for (int c = 0; c < 3; c++)
                    {
                        // PaddleOCR normalises to mean 0.5, std 0.5.
                        data[((n * 3 + c) * height + y) * width + x] = (value - 0.5f) / 0.5f;
                    }
                }
            }
        }

        return image;
    }
}
