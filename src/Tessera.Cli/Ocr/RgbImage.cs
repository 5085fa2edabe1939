namespace Tessera.Cli.Ocr;

/// <summary>An 8-bit RGB image in memory, rows top to bottom, three bytes per pixel.</summary>
internal sealed class RgbImage
{
    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"an image needs a positive size, not {width}x{height}");
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[width * height * 3];
        if (Pixels.Length != width * height * 3) throw new ArgumentException($"a {width}x{height} RGB image has {width * height * 3} bytes, not {Pixels.Length}");
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    /// <summary>The image turned a quarter turn counter-clockwise (numpy's rot90).</summary>
    public RgbImage RotateCounterClockwise()
    {
        var turned = new RgbImage(Height, Width);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                // (x, y) lands at column y, row (Width - 1 - x).
                Pixels.AsSpan((y * Width + x) * 3, 3).CopyTo(turned.Pixels.AsSpan(((Width - 1 - x) * Height + y) * 3));
            }
        }

        return turned;
    }

    /// <summary>The image turned upside down.</summary>
    public RgbImage Rotate180()
    {
        var turned = new RgbImage(Width, Height);
        int count = Width * Height;
        for (int i = 0; i < count; i++) Pixels.AsSpan(i * 3, 3).CopyTo(turned.Pixels.AsSpan((count - 1 - i) * 3));
        return turned;
    }
}
