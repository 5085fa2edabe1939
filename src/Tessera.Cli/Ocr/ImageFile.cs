using SkiaSharp;
using Tessera.Cli.Common;

namespace Tessera.Cli.Ocr;

/// <summary>Reads and writes PNG and JPEG files as <see cref="RgbImage"/>s (transparent pixels read over white).</summary>
internal static class ImageFile
{
    /// <summary>Larger pictures are refused rather than decoded into gigabytes; the detector sees at most 960 pixels a side anyway.</summary>
    private const long MaxPixels = 100_000_000;

    public static RgbImage Read(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a folder, not an image");
        if (!File.Exists(path)) throw new CliException($"{path}: no such file");
        using var codec = SKCodec.Create(path) ?? throw new CliException($"{path}: not a PNG or JPEG image");
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
        {
            throw new CliException($"{path}: a {codec.EncodedFormat} image; only PNG and JPEG are read");
        }

        var info = codec.Info;
        if ((long)info.Width * info.Height > MaxPixels) throw new CliException($"{path}: {info.Width}x{info.Height} is larger than 100 megapixels");
        using var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var decoded = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (decoded != SKCodecResult.Success)
        {
            throw new CliException($"{path}: the {codec.EncodedFormat} data cannot be decoded ({Describe(decoded)})");
        }

        return FromRgba(bitmap.GetPixelSpan(), info.Width, info.Height);
    }

    /// <summary>RGBA bytes (not premultiplied) as RGB over a white background.</summary>
    public static RgbImage FromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int i = 0; i < width * height; i++)
        {
            int alpha = rgba[i * 4 + 3];
            for (int c = 0; c < 3; c++)
            {
                image.Pixels[i * 3 + c] = (byte)((rgba[i * 4 + c] * alpha + 255 * (255 - alpha) + 127) / 255);
            }
        }

        return image;
    }

    /// <summary>A JPEG (quality 90) when the name ends in .jpg or .jpeg, a PNG otherwise.</summary>
    public static void Write(RgbImage image, string path)
    {
        var format = Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            image.Pixels.AsSpan(i * 3, 3).CopyTo(rgba.Slice(i * 4, 3));
            rgba[i * 4 + 3] = 255;
        }

        using var data = bitmap.Encode(format, format == SKEncodedImageFormat.Jpeg ? 90 : 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "truncated or corrupt",
        _ => result.ToString(),
    };
}
