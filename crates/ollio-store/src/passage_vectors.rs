//! Embeddings of a user's code passages for "Ask where…", kept by model and
//! by the hash of the passage's text, so each is asked of the model once.

use std::collections::HashMap;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ollio_domain::UserId;

use super::{now_ms, Store, StoreError};

/// Hashes looked up in one query.
const CHUNK: usize = 200;

fn encode(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect();
    STANDARD.encode(bytes)
}

fn decode(text: &str) -> Result<Vec<f32>, StoreError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|error| StoreError::Corrupt(format!("a passage vector: {error}")))?;
    if bytes.len() % 4 != 0 {
        return Err(StoreError::Corrupt(format!(
            "a passage vector of {} bytes",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|four| f32::from_le_bytes([four[0], four[1], four[2], four[3]]))
        .collect())
}

impl Store {
    /// The vectors `model` gave `owner`'s passages hashed `hashes`, by
    /// hash; a passage never embedded is missing.
    pub async fn passage_vectors(
        &self,
        owner: &UserId,
        model: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, Vec<f32>>, StoreError> {
        let mut found = HashMap::new();
        for chunk in hashes.chunks(CHUNK) {
            let list: Vec<String> = (0..chunk.len()).map(|at| format!("${}", at + 3)).collect();
            let sql = format!(
                "SELECT passage, vector FROM passage_vectors WHERE owner_id = $1 AND model = $2 AND passage IN ({})",
                list.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, String)>(&sql)
                .bind(owner.as_str())
                .bind(model);
            for hash in chunk {
                query = query.bind(hash);
            }
            for (hash, vector) in query.fetch_all(&self.pool).await? {
                found.insert(hash, decode(&vector)?);
            }
        }
        Ok(found)
    }

    /// Keeps what `model` gave each of `owner`'s passages (hash, vector);
    /// one kept already stays as it is.
    pub async fn keep_passage_vectors(
        &self,
        owner: &UserId,
        model: &str,
        vectors: &[(String, Vec<f32>)],
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        for (hash, vector) in vectors {
            sqlx::query(
                "INSERT INTO passage_vectors (owner_id, model, passage, vector, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner_id, model, passage) DO NOTHING",
            )
            .bind(owner.as_str())
            .bind(model)
            .bind(hash)
            .bind(encode(vector))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_exactly() {
        let vector = vec![0.0, -1.5, f32::MIN_POSITIVE, 3.25e7, -0.0];
        let back = decode(&encode(&vector)).unwrap();
        assert_eq!(
            back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            vector.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!(matches!(decode("AAA="), Err(StoreError::Corrupt(_))));
    }
}
