namespace Tessera.Cli.Ocr;

/// <summary>
/// The rectangle of least area around a set of points (OpenCV's minAreaRect): the convex hull, then rotating
/// calipers, since one side of the smallest rectangle always lies on a hull edge.
/// </summary>
internal static class MinAreaRect
{
    /// <summary>The rectangle's corners (ordered by <see cref="Quad.FromCorners"/>) and its shorter side.</summary>
    public static (Quad Box, double ShortSide) Of(IReadOnlyList<Point> points)
    {
        var hull = ConvexHull(points);
        if (hull.Count == 1)
        {
            return (new Quad(hull[0], hull[0], hull[0], hull[0]), 0);
        }

        double bestArea = double.PositiveInfinity;
        Point[] best = [];
        double bestShort = 0;
        for (int i = 0; i < hull.Count; i++)
        {
            Point edge = hull[(i + 1) % hull.Count] - hull[i];
            double length = edge.Length;
            if (length == 0) continue;
            var u = edge * (1 / length);
            var v = new Point(-u.Y, u.X);
            double minU = double.PositiveInfinity, maxU = double.NegativeInfinity, minV = double.PositiveInfinity, maxV = double.NegativeInfinity;
            foreach (var p in hull)
            {
                double pu = p.X * u.X + p.Y * u.Y, pv = p.X * v.X + p.Y * v.Y;
                minU = Math.Min(minU, pu);
                maxU = Math.Max(maxU, pu);
                minV = Math.Min(minV, pv);
                maxV = Math.Max(maxV, pv);
            }

            double area = (maxU - minU) * (maxV - minV);
            if (area < bestArea - 1e-9)
            {
                bestArea = area;
                bestShort = Math.Min(maxU - minU, maxV - minV);
                best = [u * minU + v * minV, u * maxU + v * minV, u * maxU + v * maxV, u * minU + v * maxV];
            }
        }

        return (Quad.FromCorners(best), bestShort);
    }

    /// <summary>Andrew's monotone chain; collinear points dropped; counter-clockwise in image coordinates' terms.</summary>
    public static List<Point> ConvexHull(IReadOnlyList<Point> points)
    {
        var sorted = points.Distinct().OrderBy(p => p.X).ThenBy(p => p.Y).ToArray();
        if (sorted.Length < 3) return [.. sorted];
        var hull = new Point[2 * sorted.Length];
        int k = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            while (k >= 2 && Cross(hull[k - 2], hull[k - 1], sorted[i]) <= 0) k--;
            hull[k++] = sorted[i];
        }

        for (int i = sorted.Length - 2, lower = k + 1; i >= 0; i--)
        {
            while (k >= lower && Cross(hull[k - 2], hull[k - 1], sorted[i]) <= 0) k--;
            hull[k++] = sorted[i];
        }

        return [.. hull.Take(k - 1)];
    }

    private static double Cross(Point o, Point a, Point b) => (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);
}
