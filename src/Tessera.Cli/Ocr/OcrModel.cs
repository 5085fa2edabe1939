namespace Tessera.Cli.Ocr;

/// <summary>The three PP-OCR models, in the order a page goes through them.</summary>
internal enum OcrModel
{
    /// <summary>Text-probability maps of whole pages (DB).</summary>
    Detection,

    /// <summary>Whether a cropped line is upright or upside down.</summary>
    Orientation,

    /// <summary>Per-step character probabilities of a cropped line (CTC).</summary>
    Recognition,
}
