namespace AspireLlm.Tests.Shared;

/// <summary>
/// The simulator's answer to one user message "Hello there" on the default <c>gpt-4o-mini</c> alias
/// (served as model <c>sim-gpt-4o-mini</c>). Written down literally, not recomputed, so a change in the
/// simulator's output shows up as a failing test rather than passing silently.
/// </summary>
public static class SimulatorGolden
{
    public const string HelloThere =
        "basalt fjord fjord xray quebec zulu charlie alpha dune whiskey uniform alpha hotel charlie amber tango delta whiskey mike golf amber juliet";
}
