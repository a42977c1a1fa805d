namespace AspireLlm.Bench;

/// <summary>
/// <c>--env NAME=VALUE</c> (repeatable) on a benchmark's command line: runtime or app settings for the
/// process under test, so configurations can be compared in one sitting with everything else equal.
/// </summary>
internal static class EnvArguments
{
    /// <param name="name">The option read: <c>--env</c>, or another of the same form (<c>--versus</c>).</param>
    public static Dictionary<string, string> Read(Dictionary<string, string>? defaults = null, string name = "--env")
    {
        var settings = defaults ?? [];
        var commandLine = Environment.GetCommandLineArgs();
        for (var i = 0; i < commandLine.Length - 1; i++)
        {
            if (commandLine[i] == name && commandLine[i + 1].Split('=', 2) is [var setting, var value])
            {
                settings[setting] = value;
            }
        }

        return settings;
    }
}
