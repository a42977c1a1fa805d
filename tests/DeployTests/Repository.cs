namespace AspireLlm.DeployTests;

internal static class Repository
{
    /// <summary>The clone's root (where AspireLlm.sln is), found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("AspireLlm.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The build configuration this test assembly was built with, so child builds reuse its output.</summary>
    public static string Configuration => AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
}
