namespace Tessera.Cli.Ocr;

/// <summary>PaddleOCR's DB post-processing parameters (its defaults for PP-OCRv4 detection).</summary>
internal sealed record DbSettings
{
    /// <summary>A pixel is text where the probability map exceeds this.</summary>
    public double Threshold { get; init; } = 0.3;

    /// <summary>A region is kept when its mean probability inside its box reaches this.</summary>
    public double BoxThreshold { get; init; } = 0.6;

    /// <summary>
    /// How far a box grows: area × ratio / perimeter on every side. DB's maps mark a shrunken core of each line, so the
    /// box is grown back to cover the glyphs.
    /// </summary>
    public double UnclipRatio { get; init; } = 1.5;

    public int MaxCandidates { get; init; } = 1000;

    /// <summary>Regions whose shorter side is below this (before growing; this + 2 after) are dropped.</summary>
    public double MinSize { get; init; } = 3;
}
