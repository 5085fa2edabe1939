using SkiaSharp;

namespace Tessera.Cli.Ocr;

/// <summary>Draws lines of text in black on white pages with SkiaSharp (anti-aliased, as a screenshot or scan shows text).</summary>
internal static class PageRenderer
{
    /// <summary>
    /// One page per entry of <paramref name="pages"/>: its lines from the top, one under the other at
    /// <paramref name="size"/> pixels, a line marked upside down drawn turned half a turn about its centre.
    /// </summary>
    public static (RgbImage[] Pages, RenderedLine[] Lines) Render(IReadOnlyList<IReadOnlyList<(string Text, bool UpsideDown)>> pages, string fontFile, int width, int height, float size)
    {
        using var typeface = SKTypeface.FromFile(fontFile) ?? throw new Common.CliException($"{fontFile}: not a font SkiaSharp can read");
        using var font = new SKFont(typeface, size) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var images = new RgbImage[pages.Count];
        var lines = new List<RenderedLine>();
        float margin = size * 1.5f, spacing = size * 2.6f;
        for (int n = 0; n < pages.Count; n++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.White);
                float baseline = margin + size;
                foreach (var (text, upsideDown) in pages[n])
                {
                    float advance = font.MeasureText(text, out SKRect glyphs);
                    if (margin + advance > width - margin || baseline + size > height)
                    {
                        throw new ArgumentException($"\"{text}\" does not fit on a {width}x{height} page at {size} px");
                    }

                    var bounds = new SKRect(margin + glyphs.Left, baseline + glyphs.Top, margin + glyphs.Right, baseline + glyphs.Bottom);
                    canvas.Save();
                    if (upsideDown) canvas.RotateDegrees(180, bounds.MidX, bounds.MidY);
                    canvas.DrawText(text, margin, baseline, SKTextAlign.Left, font, ink);
                    canvas.Restore();
                    lines.Add(new RenderedLine(n, text, bounds.Left, bounds.Top, bounds.Right, bounds.Bottom, upsideDown));
                    baseline += spacing;
                }
            }

            images[n] = ImageFile.FromRgba(bitmap.GetPixelSpan(), width, height);
        }

        return (images, [.. lines]);
    }
}
