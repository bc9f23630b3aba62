/** WCAG 2.4.1: the first stop of the keyboard jumps past the navigation to the page's <main id="main">. */
export const mainContentId = 'main';

export function SkipLink() {
  return (
    <a className="skip-link" href={`#${mainContentId}`}>
      Skip to main content
    </a>
  );
}
