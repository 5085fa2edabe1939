namespace Tessera.Cli.Ocr;

/// <summary>
/// Pairs the lines drawn on pages with what was read: each recognised box goes to the drawn line whose rectangle
/// (widened by half a line height) holds the box's centre; several boxes on one line are read left to right,
/// joined by spaces. A box on no drawn line is reported apart, so its characters count against the accuracy.
/// </summary>
internal static class LineMatcher
{
    public static ((RenderedLine Line, string Read)[] Pairs, RecognisedLine[] Extra) Match(IReadOnlyList<RenderedLine> drawn, OcrResult result)
    {
        var found = drawn.Select(_ => new List<RecognisedLine>()).ToArray();
        var extra = new List<RecognisedLine>();
        for (int page = 0; page < result.Images.Length; page++)
        {
            foreach (var line in result.Images[page])
            {
                int at = -1;
                for (int i = 0; i < drawn.Count && at < 0; i++)
                {
                    var d = drawn[i];
                    double slack = (d.Bottom - d.Top) / 2;
                    if (d.Page == page && (d with { Left = d.Left - slack, Top = d.Top - slack, Right = d.Right + slack, Bottom = d.Bottom + slack }).Contains(line.Box.Center)) at = i;
                }

                (at >= 0 ? found[at] : extra).Add(line);
            }
        }

        var pairs = drawn.Select((d, i) => (d, string.Join(" ", found[i].OrderBy(l => l.Box.Center.X).Select(l => l.Text)))).ToArray();
        return (pairs, [.. extra]);
    }
}
