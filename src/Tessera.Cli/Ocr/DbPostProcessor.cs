namespace Tessera.Cli.Ocr;

/// <summary>
/// Turns a DB (differentiable binarisation) text-probability map into boxes around lines of text, as PaddleOCR's
/// DBPostProcess does: threshold the map, take each connected region, fit the smallest rectangle around it, keep it
/// when the map's mean inside is high enough, grow it by the unclip distance, and scale it to the image.
/// </summary>
internal static class DbPostProcessor
{
    /// <param name="map">probabilities, row-major, <paramref name="mapWidth"/> × <paramref name="mapHeight"/></param>
    /// <param name="imageWidth">width of the image the boxes are for (the map is of the resized image)</param>
    /// <param name="imageHeight">height of the image the boxes are for</param>
    public static List<TextBox> Boxes(ReadOnlySpan<float> map, int mapWidth, int mapHeight, int imageWidth, int imageHeight, DbSettings settings)
    {
        if (map.Length != mapWidth * mapHeight) throw new ArgumentException($"a {mapWidth}x{mapHeight} map needs {mapWidth * mapHeight} values, not {map.Length}");
        var bitmap = new bool[map.Length];
        for (int i = 0; i < map.Length; i++) bitmap[i] = map[i] > settings.Threshold;

        var boxes = new List<TextBox>();
        foreach (var region in Regions.Outlines(bitmap, mapWidth, mapHeight).Take(settings.MaxCandidates))
        {
            var (box, shortSide) = MinAreaRect.Of(region);
            if (shortSide < settings.MinSize) continue;
            double score = MeanInside(map, mapWidth, mapHeight, box);
            if (score < settings.BoxThreshold) continue;
            var (grown, grownShort) = Unclip(box, settings.UnclipRatio);
            if (grownShort < settings.MinSize + 2) continue;
            var scaled = Scale(grown, (double)imageWidth / mapWidth, (double)imageHeight / mapHeight, imageWidth, imageHeight);
            boxes.Add(new TextBox(scaled, score));
        }

        return boxes;
    }

    /// <summary>
    /// Grows a rectangle by d = area × ratio / perimeter on every side. PaddleOCR offsets the polygon with round
    /// joins (pyclipper) and fits the smallest rectangle again; for a rectangle that is exactly this one, since the
    /// rounded corners stay inside it and its sides touch the offset edges.
    /// </summary>
    public static (Quad Box, double ShortSide) Unclip(Quad box, double ratio)
    {
        double distance = box.Area * ratio / box.Perimeter;
        Point across = box.TopRight - box.TopLeft, down = box.BottomLeft - box.TopLeft;
        double width = across.Length, height = down.Length;
        Point u = across * (distance / width), v = down * (distance / height);
        var grown = new[] { box.TopLeft - u - v, box.TopRight + u - v, box.BottomRight + u + v, box.BottomLeft - u + v };
        return (Quad.FromCorners(grown), Math.Min(width, height) + 2 * distance);
    }

    /// <summary>
    /// The map's mean inside the box (PaddleOCR's box_score_fast): over the pixels of the box's bounding rectangle that
    /// the polygon with its corners truncated to whole pixels covers, edges included.
    /// </summary>
    public static double MeanInside(ReadOnlySpan<float> map, int width, int height, Quad box)
    {
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        for (int i = 0; i < 4; i++)
        {
            minX = Math.Min(minX, box[i].X);
            maxX = Math.Max(maxX, box[i].X);
            minY = Math.Min(minY, box[i].Y);
            maxY = Math.Max(maxY, box[i].Y);
        }

        int x0 = Math.Clamp((int)Math.Floor(minX), 0, width - 1), x1 = Math.Clamp((int)Math.Ceiling(maxX), 0, width - 1);
        int y0 = Math.Clamp((int)Math.Floor(minY), 0, height - 1), y1 = Math.Clamp((int)Math.Ceiling(maxY), 0, height - 1);
        var corners = new Point[4];
        for (int i = 0; i < 4; i++) corners[i] = new Point(Math.Truncate(box[i].X - x0) + x0, Math.Truncate(box[i].Y - y0) + y0);

        double sum = 0;
        int count = 0;
        for (int y = y0; y <= y1; y++)
        {
            if (!RowSpan(corners, y, out double left, out double right)) continue;
            int from = Math.Max(x0, (int)Math.Ceiling(left - 1e-9)), to = Math.Min(x1, (int)Math.Floor(right + 1e-9));
            for (int x = from; x <= to; x++)
            {
                sum += map[y * width + x];
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }

    /// <summary>Where the horizontal line at <paramref name="y"/> crosses the convex polygon, if it does.</summary>
    private static bool RowSpan(Point[] polygon, double y, out double left, out double right)
    {
        left = double.PositiveInfinity;
        right = double.NegativeInfinity;
        for (int i = 0; i < polygon.Length; i++)
        {
            Point a = polygon[i], b = polygon[(i + 1) % polygon.Length];
            if (y < Math.Min(a.Y, b.Y) || y > Math.Max(a.Y, b.Y)) continue;
            if (a.Y == b.Y)
            {
                left = Math.Min(left, Math.Min(a.X, b.X));
                right = Math.Max(right, Math.Max(a.X, b.X));
                continue;
            }

            double x = a.X + (y - a.Y) * (b.X - a.X) / (b.Y - a.Y);
            left = Math.Min(left, x);
            right = Math.Max(right, x);
        }

        return left <= right;
    }

    /// <summary>From map to image pixels, rounded half to even (numpy's round) and kept on the image.</summary>
    private static Quad Scale(Quad box, double sx, double sy, int width, int height)
    {
        Point At(Point p) => new(Math.Clamp(Math.Round(p.X * sx), 0, width), Math.Clamp(Math.Round(p.Y * sy), 0, height));
        return new Quad(At(box.TopLeft), At(box.TopRight), At(box.BottomRight), At(box.BottomLeft));
    }
}
