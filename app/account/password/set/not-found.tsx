import { LinkRefused } from './link-refused';
import { linkPageMessages } from './messages';

/** A link the portal does not know (mistyped, cut off, or from another installation): 404. */
export default function UnknownLink() {
  return (
    <main id="main">
      <LinkRefused {...linkPageMessages.unknown} />
    </main>
  );
}
