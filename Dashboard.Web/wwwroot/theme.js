// Light or dark: the operator's choice (kept in this browser), else the system's. Runs before the
// page paints, so there is no flash of the other theme.
window.aspirellmTheme = {
  apply() {
    const chosen = localStorage.getItem('aspirellm-theme');
    const dark = chosen ? chosen === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  },
  toggle() {
    localStorage.setItem('aspirellm-theme', document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
    this.apply();
  },
};
aspirellmTheme.apply();
