namespace Tessera.Cli.Ocr;

/// <summary>
/// Detected boxes made ready for cropping, as PaddleOCR's TextDetector and sorted_boxes do: kept on the image,
/// boxes 3 pixels or less across dropped, and put in reading order (top to bottom; boxes whose tops are within 10
/// pixels of each other are one row, left to right).
/// </summary>
internal static class DetectedLines
{
    public static List<Quad> Arrange(IEnumerable<TextBox> boxes, int width, int height)
    {
        Point Clip(Point p) => new((int)Math.Clamp(p.X, 0, width - 1), (int)Math.Clamp(p.Y, 0, height - 1));
        var kept = boxes
            .Select(b => new Quad(Clip(b.Box.TopLeft), Clip(b.Box.TopRight), Clip(b.Box.BottomRight), Clip(b.Box.BottomLeft)))
            .Where(q => (int)(q.TopLeft - q.TopRight).Length > 3 && (int)(q.TopLeft - q.BottomLeft).Length > 3)
            .OrderBy(q => q.TopLeft.Y).ThenBy(q => q.TopLeft.X)
            .ToList();
        for (int i = 0; i < kept.Count - 1; i++)
        {
            for (int j = i; j >= 0; j--)
            {
                if (Math.Abs(kept[j + 1].TopLeft.Y - kept[j].TopLeft.Y) < 10 && kept[j + 1].TopLeft.X < kept[j].TopLeft.X)
                {
                    (kept[j], kept[j + 1]) = (kept[j + 1], kept[j]);
                }
                else
                {
                    break;
                }
            }
        }

        return kept;
    }
}
