import { useEffect, useState } from 'react';

// A tiny router over history.pushState: the console's pages are
// /console, /console/calls/CA…, /console/flows, /console/flows/FW…, /console/board.
export function navigate(to) {
  window.history.pushState(null, '', to);
  window.dispatchEvent(new Event('popstate'));
}

export function usePath() {
  const [path, setPath] = useState(window.location.pathname + window.location.search);
  useEffect(() => {
    const on = () => setPath(window.location.pathname + window.location.search);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

export function Link({ to, children, ...rest }) {
  return (
    <a href={to} {...rest} onClick={(e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(to);
    }}>{children}</a>
  );
}
