namespace Tessera.Cli.Ocr;

/// <summary>A line read off an image: where it is, what it says, the recogniser's confidence, and whether it was turned upright first.</summary>
internal sealed record RecognisedLine(Quad Box, string Text, double Confidence, bool TurnedOver);
