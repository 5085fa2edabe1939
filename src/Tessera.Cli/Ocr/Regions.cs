namespace Tessera.Cli.Ocr;

/// <summary>The 8-connected regions of a bitmap (the shapes OpenCV's findContours traces), found in raster order.</summary>
internal static class Regions
{
    /// <summary>
    /// Each region as the leftmost and rightmost pixel of each of its rows: enough for its convex hull, which is
    /// all that fitting a rectangle needs.
    /// </summary>
    public static IEnumerable<List<Point>> Outlines(bool[] bitmap, int width, int height)
    {
        var seen = new bool[bitmap.Length];
        var stack = new Stack<int>();
        var rowMin = new int[height];
        var rowMax = new int[height];
        Array.Fill(rowMin, int.MaxValue);
        Array.Fill(rowMax, -1);
        for (int start = 0; start < bitmap.Length; start++)
        {
            if (!bitmap[start] || seen[start]) continue;
            int top = start / width, bottom = top;
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int at = stack.Pop();
                int y = at / width, x = at % width;
                rowMin[y] = Math.Min(rowMin[y], x);
                rowMax[y] = Math.Max(rowMax[y], x);
                bottom = Math.Max(bottom, y);
                for (int dy = -1; dy <= 1; dy++)
                {
                    int ny = y + dy;
                    if (ny < 0 || ny >= height) continue;
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        if (nx < 0 || nx >= width) continue;
                        int next = ny * width + nx;
                        if (bitmap[next] && !seen[next])
                        {
                            seen[next] = true;
                            stack.Push(next);
                        }
                    }
                }
            }

            var outline = new List<Point>();
            for (int y = top; y <= bottom; y++)
            {
                if (rowMax[y] < 0) continue;
                outline.Add(new Point(rowMin[y], y));
                if (rowMax[y] != rowMin[y]) outline.Add(new Point(rowMax[y], y));
                rowMin[y] = int.MaxValue;
                rowMax[y] = -1;
            }

            yield return outline;
        }
    }
}
