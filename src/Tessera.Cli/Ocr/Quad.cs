namespace Tessera.Cli.Ocr;

/// <summary>A four-cornered region of an image, corners clockwise from the top left (PaddleOCR's order).</summary>
internal readonly record struct Quad(Point TopLeft, Point TopRight, Point BottomRight, Point BottomLeft)
{
    public Point this[int i] => i switch
    {
        0 => TopLeft,
        1 => TopRight,
        2 => BottomRight,
        3 => BottomLeft,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public Point Center => (TopLeft + TopRight + BottomRight + BottomLeft) * 0.25;

    public double Area
    {
        get
        {
            // Shoelace formula.
            double twice = 0;
            for (int i = 0; i < 4; i++)
            {
                Point a = this[i], b = this[(i + 1) % 4];
                twice += a.X * b.Y - b.X * a.Y;
            }

            return Math.Abs(twice) / 2;
        }
    }

    public double Perimeter => (TopRight - TopLeft).Length + (BottomRight - TopRight).Length + (BottomLeft - BottomRight).Length + (TopLeft - BottomLeft).Length;

    /// <summary>
    /// The four corners ordered as PaddleOCR's get_mini_boxes does: the two leftmost (by x, ties kept in the given
    /// order) become top left and bottom left by y, the two rightmost top right and bottom right.
    /// </summary>
    public static Quad FromCorners(IReadOnlyList<Point> corners)
    {
        var p = corners.Select((c, i) => (c, i)).OrderBy(t => t.c.X).ThenBy(t => t.i).Select(t => t.c).ToArray();
        var (topLeft, bottomLeft) = p[1].Y > p[0].Y ? (p[0], p[1]) : (p[1], p[0]);
        var (topRight, bottomRight) = p[3].Y > p[2].Y ? (p[2], p[3]) : (p[3], p[2]);
        return new Quad(topLeft, topRight, bottomRight, bottomLeft);
    }

    public override string ToString() =>
        string.Join(" ", new[] { TopLeft, TopRight, BottomRight, BottomLeft }.Select(p => FormattableString.Invariant($"({p.X:0.#},{p.Y:0.#})")));
}
