import { useEffect, useState } from "react";

type Note = { id: number; text: string };

export default function App() {
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetch("/api/notes")
      .then((response) => (response.ok ? response.json() : Promise.reject(response.statusText)))
      .then(setNotes)
      .catch((reason) => setError(String(reason)));
  }, []);

  return (
    <main className="min-h-screen grid place-items-center bg-slate-50 text-slate-900">
      <div className="text-center">
        <h1 className="text-3xl font-semibold">Your full-stack app</h1>
        <p className="mt-2 text-slate-600">
          {error ? `The API did not answer: ${error}` : notes === null ? "Asking the API…" : `The API has ${notes.length} notes.`}
        </p>
      </div>
    </main>
  );
}
