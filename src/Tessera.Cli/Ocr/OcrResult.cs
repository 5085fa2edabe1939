namespace Tessera.Cli.Ocr;

/// <summary>What the pipeline read off each image, with counts of what it did on the way.</summary>
internal sealed record OcrResult(IReadOnlyList<RecognisedLine>[] Images, int Boxes, int TurnedOver, int Dropped);
